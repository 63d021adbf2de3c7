using System.Text.Json;
using AgentVerse.Dapr.Workflow.Grpc;
using AgentVerse.Dapr.Workflow.Protocol;
using Google.Protobuf.WellKnownTypes;

namespace AgentVerse.Dapr.Workflow;

/// <summary>
/// Schedules and manages workflow instances through the sidecar's <c>TaskHubSidecarService</c>
/// gRPC API. Registered by <c>AddDaprWorkflow</c>; payloads are JSON.
/// </summary>
public sealed class DaprWorkflowClient
{
    private const string Service = "/TaskHubSidecarService/";

    private readonly GrpcCallInvoker _invoker;
    private readonly WorkflowSerializer _serializer;

    /// <summary>Creates a client over <paramref name="invoker"/> (not owned).</summary>
    public DaprWorkflowClient(GrpcCallInvoker invoker, JsonSerializerOptions? jsonSerializerOptions = null)
    {
        ArgumentNullException.ThrowIfNull(invoker);
        _invoker = invoker;
        _serializer = new WorkflowSerializer(jsonSerializerOptions ?? new JsonSerializerOptions(JsonSerializerDefaults.Web));
    }

    /// <summary>
    /// Schedules workflow <paramref name="name"/> and returns its instance id (a new GUID unless given).
    /// With <paramref name="startTime"/> it starts no earlier than then.
    /// </summary>
    public async Task<string> ScheduleNewWorkflowAsync(
        string name, string? instanceId = null, object? input = null, DateTime? startTime = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var request = new CreateInstanceRequest
        {
            InstanceId = string.IsNullOrEmpty(instanceId) ? Guid.NewGuid().ToString() : instanceId,
            Name = name,
            Input = _serializer.Serialize(input),
        };
        if (startTime is { } start)
        {
            request.ScheduledStartTimestamp = Timestamp.FromDateTime(start.Kind == DateTimeKind.Local ? start.ToUniversalTime() : DateTime.SpecifyKind(start, DateTimeKind.Utc));
        }

        var response = await _invoker.UnaryAsync(Service + "StartInstance", request, CreateInstanceResponse.Parser, cancellationToken: cancellationToken);
        return string.IsNullOrEmpty(response.InstanceId) ? request.InstanceId : response.InstanceId;
    }

    /// <summary>The instance's state, or <see langword="null"/> when no such instance exists.</summary>
    public async Task<WorkflowState?> GetWorkflowStateAsync(string instanceId, bool getInputsAndOutputs = true, CancellationToken cancellationToken = default)
        => ToState(await _invoker.UnaryAsync(
            Service + "GetInstance", NewGetRequest(instanceId, getInputsAndOutputs), GetInstanceResponse.Parser, cancellationToken: cancellationToken));

    /// <summary>Waits until the instance has started (is no longer pending).</summary>
    public async Task<WorkflowState> WaitForWorkflowStartAsync(string instanceId, bool getInputsAndOutputs = true, CancellationToken cancellationToken = default)
        => ToState(await _invoker.UnaryAsync(
               Service + "WaitForInstanceStart", NewGetRequest(instanceId, getInputsAndOutputs), GetInstanceResponse.Parser, cancellationToken: cancellationToken))
           ?? throw new InvalidOperationException($"Workflow instance '{instanceId}' does not exist.");

    /// <summary>Waits until the instance completed, failed or was terminated.</summary>
    public async Task<WorkflowState> WaitForWorkflowCompletionAsync(string instanceId, bool getInputsAndOutputs = true, CancellationToken cancellationToken = default)
        => ToState(await _invoker.UnaryAsync(
               Service + "WaitForInstanceCompletion", NewGetRequest(instanceId, getInputsAndOutputs), GetInstanceResponse.Parser, cancellationToken: cancellationToken))
           ?? throw new InvalidOperationException($"Workflow instance '{instanceId}' does not exist.");

    /// <summary>Raises external event <paramref name="eventName"/> on the instance.</summary>
    public async Task RaiseEventAsync(string instanceId, string eventName, object? eventPayload = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        await _invoker.UnaryAsync(
            Service + "RaiseEvent",
            new RaiseEventRequest { InstanceId = instanceId, Name = eventName, Input = _serializer.Serialize(eventPayload) },
            RaiseEventResponse.Parser,
            cancellationToken: cancellationToken);
    }

    /// <summary>Terminates the instance; <paramref name="output"/> becomes its output.</summary>
    public async Task TerminateWorkflowAsync(string instanceId, object? output = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        await _invoker.UnaryAsync(
            Service + "TerminateInstance",
            new TerminateRequest { InstanceId = instanceId, Output = _serializer.Serialize(output), Recursive = true },
            TerminateResponse.Parser,
            cancellationToken: cancellationToken);
    }

    /// <summary>Suspends the instance: events are held until it is resumed.</summary>
    public async Task SuspendWorkflowAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        await _invoker.UnaryAsync(
            Service + "SuspendInstance", new SuspendRequest { InstanceId = instanceId, Reason = reason }, SuspendResponse.Parser, cancellationToken: cancellationToken);
    }

    /// <summary>Resumes a suspended instance.</summary>
    public async Task ResumeWorkflowAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        await _invoker.UnaryAsync(
            Service + "ResumeInstance", new ResumeRequest { InstanceId = instanceId, Reason = reason }, ResumeResponse.Parser, cancellationToken: cancellationToken);
    }

    /// <summary>Deletes a finished instance's state and history; true when something was deleted.</summary>
    public async Task<bool> PurgeInstanceAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        var response = await _invoker.UnaryAsync(
            Service + "PurgeInstances", new PurgeInstancesRequest { InstanceId = instanceId, Recursive = true }, PurgeInstancesResponse.Parser, cancellationToken: cancellationToken);
        return response.DeletedInstanceCount > 0;
    }

    private static GetInstanceRequest NewGetRequest(string instanceId, bool getInputsAndOutputs)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        return new GetInstanceRequest { InstanceId = instanceId, GetInputsAndOutputs = getInputsAndOutputs };
    }

    private WorkflowState? ToState(GetInstanceResponse response)
        => response.Exists && response.OrchestrationState is { } state ? new WorkflowState(state, _serializer) : null;
}
