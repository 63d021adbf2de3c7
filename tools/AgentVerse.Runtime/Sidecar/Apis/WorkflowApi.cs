using System.Text;
using System.Text.Json;
using Grpc.Core;
using Dapr.DurableTask.Protobuf;
using AgentVerse.Runtime.Workflow;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace AgentVerse.Runtime.Sidecar.Apis;

/// <summary>
/// daprd's workflow HTTP API (pkg/api/http/workflow.go over pkg/api/universal/workflow.go), on
/// <c>v1.0</c> and its <c>v1.0-beta1</c>/<c>v1.0-alpha1</c> aliases. Unlike the gRPC calls, these
/// do not wait for the workflow to act: daprd's HTTP client only enqueues.
/// </summary>
internal static class WorkflowApi
{
    public static void MapWorkflowApi(this IEndpointRouteBuilder app, Sidecar sidecar)
    {
        var engine = sidecar.Workflows;
        foreach (var version in (string[])["v1.0", "v1.0-beta1", "v1.0-alpha1"])
        {
            // {component} is "dapr"; daprd 1.16 does not check it.
            var group = app.MapGroup($"/{version}/workflows/{{component}}");
            group.MapPost("/{name}/start", context => StartAsync(context, engine));
            group.MapGet("/{instanceId}", context => GetAsync(context, engine));
            group.MapPost("/{instanceId}/terminate", context => RunAsync(context, engine, "ERR_TERMINATE_WORKFLOW", "error terminating workflow '{0}': {1}",
                notFoundIs404: true, (id, ct) => engine.TerminateAsync(id, null, recursive: true, wait: false, ct)));
            group.MapPost("/{instanceId}/raiseEvent/{eventName}", RaiseEventAsync);
            group.MapPost("/{instanceId}/pause", context => RunAsync(context, engine, "ERR_PAUSE_WORKFLOW", "error pausing workflow {0}: {1}",
                notFoundIs404: false, (id, ct) => engine.SuspendAsync(id, null, wait: false, ct)));
            group.MapPost("/{instanceId}/resume", context => RunAsync(context, engine, "ERR_RESUME_WORKFLOW", "error resuming workflow {0}: {1}",
                notFoundIs404: false, (id, ct) => engine.ResumeAsync(id, null, wait: false, ct)));
            group.MapPost("/{instanceId}/purge", context => RunAsync(context, engine, "ERR_PURGE_WORKFLOW", "error purging workflow {0}: {1}",
                notFoundIs404: true, async (id, ct) =>
                {
                    // daprd's HTTP purge is recursive.
                    if (await engine.PurgeAsync(id, recursive: true, ct) == 0)
                    {
                        throw new RpcException(new Status(StatusCode.NotFound, "no such instance exists"));
                    }
                }));
        }

        Task RaiseEventAsync(HttpContext context) => RunAsync(context, engine, "ERR_RAISE_EVENT_WORKFLOW", "error raising event on workflow '{0}': {1}",
            notFoundIs404: false, async (id, ct) =>
            {
                var eventName = (string)context.Request.RouteValues["eventName"]!;
                await engine.RaiseEventAsync(id, eventName, await ReadBodyAsync(context), ct);
            });
    }

    // daprd: actor-backed APIs fail this way when there is no actor state store.
    private static DaprError ActorRuntimeNotFound(string message) => new(500, "ERR_ACTOR_RUNTIME_NOT_FOUND", message);

    private static async Task<string> ReadBodyAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        return await reader.ReadToEndAsync(context.RequestAborted);
    }

    private static async Task StartAsync(HttpContext context, WorkflowEngine engine)
    {
        if (engine.StoreProblem is { } problem)
        {
            await ActorRuntimeNotFound(problem).WriteAsync(context.Response);
            return;
        }
        var name = (string)context.Request.RouteValues["name"]!;
        var instanceId = context.Request.Query["instanceID"].ToString();
        if (instanceId.Length == 0)
        {
            instanceId = Guid.NewGuid().ToString();
        }
        try
        {
            WorkflowEngine.ValidateInstanceId(instanceId);
        }
        catch (RpcException e)
        {
            var code = instanceId.Length > 64 ? "ERR_INSTANCE_ID_TOO_LONG" : "ERR_INSTANCE_ID_INVALID";
            await new DaprError(400, code, e.Status.Detail).WriteAsync(context.Response);
            return;
        }
        // The body is the workflow's raw input text (daprd passes it through unparsed).
        var request = new CreateInstanceRequest { InstanceId = instanceId, Name = name, Input = await ReadBodyAsync(context) };
        try
        {
            await engine.StartInstanceAsync(request, waitForStart: false, context.RequestAborted);
        }
        catch (RpcException e)
        {
            await new DaprError(500, "ERR_START_WORKFLOW", $"error starting workflow '{name}': {e.Status.Detail}").WriteAsync(context.Response);
            return;
        }
        context.Response.StatusCode = StatusCodes.Status202Accepted;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["instanceID"] = instanceId }));
    }

    private static async Task GetAsync(HttpContext context, WorkflowEngine engine)
    {
        if (engine.StoreProblem is { } problem)
        {
            await ActorRuntimeNotFound(problem).WriteAsync(context.Response);
            return;
        }
        var instanceId = (string)context.Request.RouteValues["instanceId"]!;
        InstanceRecord? record;
        try
        {
            record = await engine.GetAsync(instanceId, context.RequestAborted);
        }
        catch (RpcException e)
        {
            await new DaprError(500, "ERR_GET_WORKFLOW", $"error while getting workflow info on instance '{instanceId}': {e.Status.Detail}").WriteAsync(context.Response);
            return;
        }
        if (record is null)
        {
            await InstanceNotFound(instanceId).WriteAsync(context.Response);
            return;
        }
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteString("instanceID", record.InstanceId);
        json.WriteString("workflowName", record.Name);
        json.WriteString("createdAt", ProtoJsonTime(record.CreatedAt));
        json.WriteString("lastUpdatedAt", ProtoJsonTime(record.LastUpdatedAt));
        json.WriteString("runtimeStatus", StatusName(record.Status));
        json.WriteStartObject("properties");
        WriteProperty(json, "dapr.workflow.input", record.Input);
        WriteProperty(json, "dapr.workflow.output", record.Output);
        WriteProperty(json, "dapr.workflow.custom_status", record.CustomStatus);
        if (record.Failure is { } failure)
        {
            json.WriteString("dapr.workflow.failure.error_type", failure.ErrorType);
            json.WriteString("dapr.workflow.failure.error_message", failure.ErrorMessage);
        }
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteProperty(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }

    // protojson Timestamp text (RFC 3339, UTC, 0/3/6/9 fractional digits), as daprd's JSON has it.
    private static string ProtoJsonTime(DateTimeOffset time) => JsonFormatter.Default.Format(Timestamp.FromDateTimeOffset(time)).Trim('"');

    // daprd's statusMap (pkg/runtime/wfengine/client.go); anything else reads UNKNOWN.
    public static string StatusName(OrchestrationStatus status) => status switch
    {
        OrchestrationStatus.Running => "RUNNING",
        OrchestrationStatus.Completed => "COMPLETED",
        OrchestrationStatus.ContinuedAsNew => "CONTINUED_AS_NEW",
        OrchestrationStatus.Failed => "FAILED",
        OrchestrationStatus.Canceled => "CANCELED",
        OrchestrationStatus.Terminated => "TERMINATED",
        OrchestrationStatus.Pending => "PENDING",
        OrchestrationStatus.Suspended => "SUSPENDED",
        _ => "UNKNOWN",
    };

    private static DaprError InstanceNotFound(string instanceId) =>
        new(404, "ERR_INSTANCE_ID_NOT_FOUND", $"unable to find workflow with the provided instance ID: {instanceId}");

    private static async Task RunAsync(HttpContext context, WorkflowEngine engine, string errorCode, string format, bool notFoundIs404,
        Func<string, CancellationToken, Task> operation)
    {
        if (engine.StoreProblem is { } problem)
        {
            await ActorRuntimeNotFound(problem).WriteAsync(context.Response);
            return;
        }
        var instanceId = (string)context.Request.RouteValues["instanceId"]!;
        try
        {
            await operation(instanceId, context.RequestAborted);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound && notFoundIs404)
        {
            await InstanceNotFound(instanceId).WriteAsync(context.Response);
            return;
        }
        catch (RpcException e)
        {
            await new DaprError(500, errorCode, string.Format(System.Globalization.CultureInfo.InvariantCulture, format, instanceId, e.Status.Detail)).WriteAsync(context.Response);
            return;
        }
        context.Response.StatusCode = StatusCodes.Status202Accepted;
    }
}
