using Dapr.DurableTask.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace AgentVerse.Runtime.Workflow;

/// <summary>
/// The durabletask <c>TaskHubSidecarService</c> that daprd serves on its gRPC API port, on the server base
/// generated from the protos Dapr.Workflow is built from. Method paths are <c>/TaskHubSidecarService/{Method}</c>
/// (the proto declares no package). Methods it does not override answer <c>UNIMPLEMENTED</c>.
/// </summary>
internal sealed class TaskHubGrpcService(WorkflowEngine engine, ILogger logger) : TaskHubSidecarService.TaskHubSidecarServiceBase
{
    public override Task<Empty> Hello(Empty request, ServerCallContext context) => Task.FromResult(new Empty());

    public override Task<CreateInstanceResponse> StartInstance(CreateInstanceRequest request, ServerCallContext context) =>
        RunAsync(context, async ct => new CreateInstanceResponse { InstanceId = await engine.StartInstanceAsync(request, waitForStart: true, ct) });

    public override Task<GetInstanceResponse> GetInstance(GetInstanceRequest request, ServerCallContext context) =>
        RunAsync(context, async ct => ToResponse(await engine.GetAsync(request.InstanceId, ct), request.GetInputsAndOutputs));

    public override Task<GetInstanceResponse> WaitForInstanceStart(GetInstanceRequest request, ServerCallContext context) =>
        RunAsync(context, async ct =>
            ToResponse(await engine.WaitAsync(request.InstanceId, s => s.Status != OrchestrationStatus.Pending, ct), request.GetInputsAndOutputs));

    public override Task<GetInstanceResponse> WaitForInstanceCompletion(GetInstanceRequest request, ServerCallContext context) =>
        RunAsync(context, async ct => ToResponse(await engine.WaitAsync(request.InstanceId, s => s.IsTerminal, ct), request.GetInputsAndOutputs));

    public override Task<RaiseEventResponse> RaiseEvent(RaiseEventRequest request, ServerCallContext context) =>
        RunAsync(context, async ct =>
        {
            await engine.RaiseEventAsync(request.InstanceId, request.Name, request.Input, ct);
            return new RaiseEventResponse();
        });

    public override Task<TerminateResponse> TerminateInstance(TerminateRequest request, ServerCallContext context) =>
        RunAsync(context, async ct =>
        {
            await engine.TerminateAsync(request.InstanceId, request.Output, request.Recursive, wait: true, ct);
            return new TerminateResponse();
        });

    public override Task<SuspendResponse> SuspendInstance(SuspendRequest request, ServerCallContext context) =>
        RunAsync(context, async ct =>
        {
            await engine.SuspendAsync(request.InstanceId, request.Reason, wait: true, ct);
            return new SuspendResponse();
        });

    public override Task<ResumeResponse> ResumeInstance(ResumeRequest request, ServerCallContext context) =>
        RunAsync(context, async ct =>
        {
            await engine.ResumeAsync(request.InstanceId, request.Reason, wait: true, ct);
            return new ResumeResponse();
        });

    public override Task<PurgeInstancesResponse> PurgeInstances(PurgeInstancesRequest request, ServerCallContext context) =>
        RunAsync(context, async ct =>
        {
            if (request.RequestCase == PurgeInstancesRequest.RequestOneofCase.PurgeInstanceFilter)
            {
                // daprd: "multi-instance purge is not implemented"
                throw new RpcException(new Status(StatusCode.Unknown, "multi-instance purge is not implemented"));
            }
            var deleted = await engine.PurgeAsync(request.InstanceId, request.Recursive, ct);
            return deleted == 0
                ? throw new RpcException(new Status(StatusCode.NotFound, $"no such instance exists: {request.InstanceId}"))
                : new PurgeInstancesResponse { DeletedInstanceCount = deleted, IsComplete = true };
        });

    public override Task<GetInstanceHistoryResponse> GetInstanceHistory(GetInstanceHistoryRequest request, ServerCallContext context) =>
        RunAsync(context, async ct =>
        {
            var record = await engine.GetAsync(request.InstanceId, ct)
                ?? throw new RpcException(new Status(StatusCode.NotFound, $"no such instance exists: {request.InstanceId}"));
            var history = new GetInstanceHistoryResponse();
            history.Events.AddRange(record.History);
            return history;
        });

    public override Task<CompleteTaskResponse> CompleteActivityTask(ActivityResponse request, ServerCallContext context) =>
        RunAsync(context, async _ =>
        {
            await engine.CompleteActivityTaskAsync(request);
            return new CompleteTaskResponse();
        });

    // CompleteOrchestratorTask is the name Dapr.Workflow 1.19 still calls; CompleteWorkflowTask its successor.
    [Obsolete("Deprecated in the proto; Dapr.Workflow 1.19 still calls it.")]
    public override Task<CompleteTaskResponse> CompleteOrchestratorTask(WorkflowResponse request, ServerCallContext context) =>
        CompleteWorkflowTask(request, context);

    public override Task<CompleteTaskResponse> CompleteWorkflowTask(WorkflowResponse request, ServerCallContext context) =>
        RunAsync(context, _ =>
        {
            engine.CompleteOrchestratorTask(request);
            return Task.FromResult(new CompleteTaskResponse());
        });

    /// <summary>Kept open for the worker's lifetime; ends with CANCELLED when the sidecar shuts down (as daprd).</summary>
    public override async Task GetWorkItems(GetWorkItemsRequest request, IServerStreamWriter<WorkItem> responseStream, ServerCallContext context)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, engine.Stopping);
        try
        {
            await engine.StartAsync().WaitAsync(linked.Token);
            // Send the response headers now, so the worker knows it is connected before the first item.
            await context.WriteResponseHeadersAsync([]);
            logger.LogInformation("Workflow worker connected ({UserAgent})", context.RequestHeaders.GetValue("user-agent"));
            try
            {
                await engine.Dispatcher.ServeAsync((item, ct) => responseStream.WriteAsync(item, ct), linked.Token);
            }
            finally
            {
                logger.LogInformation("Workflow worker disconnected");
            }
        }
        catch (OperationCanceledException) when (engine.Stopping.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Cancelled, "shutting down"));
        }
    }

    /// <summary>
    /// Runs a unary call until the caller's deadline (grpc-timeout, which Grpc.AspNetCore turns into the call's
    /// cancellation) or the sidecar's shutdown; a deadline is DEADLINE_EXCEEDED, as from grpc-go.
    /// </summary>
    private async Task<T> RunAsync<T>(ServerCallContext context, Func<CancellationToken, Task<T>> handle)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, engine.Stopping);
        try
        {
            return await handle(linked.Token);
        }
        catch (OperationCanceledException) when (engine.Stopping.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Cancelled, "shutting down"));
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested && context.Deadline <= DateTime.UtcNow)
        {
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, "context deadline exceeded"));
        }
    }

    public static GetInstanceResponse ToResponse(InstanceRecord? record, bool includePayloads)
    {
        if (record is null)
        {
            return new GetInstanceResponse { Exists = false };
        }
        var state = new WorkflowState
        {
            InstanceId = record.InstanceId,
            Name = record.Name,
            WorkflowStatus = record.Status,
            CreatedTimestamp = Timestamp.FromDateTimeOffset(record.CreatedAt),
            LastUpdatedTimestamp = Timestamp.FromDateTimeOffset(record.LastUpdatedAt),
            ExecutionId = record.ExecutionId,
        };
        if (record.CompletedAt is { } completed)
        {
            state.CompletedTimestamp = Timestamp.FromDateTimeOffset(completed);
        }
        if (record.ScheduledStartAt is { } scheduled)
        {
            state.ScheduledStartTimestamp = Timestamp.FromDateTimeOffset(scheduled);
        }
        // daprd fills payloads only when asked (getInputsAndOutputs).
        if (includePayloads)
        {
            state.Input = record.Input;
            state.Output = record.Output;
            state.CustomStatus = record.CustomStatus;
            state.FailureDetails = record.Failure;
        }
        return new GetInstanceResponse { Exists = true, WorkflowState = state };
    }
}
