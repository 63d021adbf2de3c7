using AgentVerse.Dapr.Workflow.Grpc;
using AgentVerse.Dapr.Workflow.Protocol;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AgentVerse.Runtime.Workflow;

/// <summary>
/// The durabletask <c>TaskHubSidecarService</c> that daprd serves on its gRPC API port, hand-served over
/// Kestrel HTTP/2. Paths are <c>/TaskHubSidecarService/{Method}</c> (the proto declares no package).
/// </summary>
internal sealed class TaskHubSidecarService(WorkflowEngine engine, string? apiToken, ILogger logger)
{
    public const string PathPrefix = "/TaskHubSidecarService/";

    public async Task HandleAsync(HttpContext context)
    {
        var response = context.Response;
        GrpcWire.PrepareResponse(response);
        var aborted = context.RequestAborted;
        try
        {
            if (!HttpMethods.IsPost(context.Request.Method)
                || context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) != true)
            {
                throw new GrpcException(GrpcStatusCode.Internal, "gRPC requires POST with content-type application/grpc");
            }
            // daprd checks the token on the gRPC API as on HTTP.
            if (!string.IsNullOrEmpty(apiToken) && context.Request.Headers["dapr-api-token"] != apiToken)
            {
                throw new GrpcException(GrpcStatusCode.Unauthenticated, "authentication error: api token mismatch");
            }
            var path = context.Request.Path.Value ?? "";
            var method = path.StartsWith(PathPrefix, StringComparison.Ordinal) ? path[PathPrefix.Length..] : "";
            switch (method)
            {
                case "Hello":
                    await UnaryAsync(context, Empty.Parser, (_, _) => Task.FromResult<IMessage>(new Empty()));
                    break;
                case "StartInstance":
                    await UnaryAsync(context, CreateInstanceRequest.Parser, async (r, ct) =>
                        new CreateInstanceResponse { InstanceId = await engine.StartInstanceAsync(r, waitForStart: true, ct) });
                    break;
                case "GetInstance":
                    await UnaryAsync(context, GetInstanceRequest.Parser, async (r, ct) =>
                        ToResponse(await engine.GetAsync(r.InstanceId, ct), r.GetInputsAndOutputs));
                    break;
                case "WaitForInstanceStart":
                    await UnaryAsync(context, GetInstanceRequest.Parser, async (r, ct) =>
                        ToResponse(await engine.WaitAsync(r.InstanceId, s => s.Status != OrchestrationStatus.Pending, ct), r.GetInputsAndOutputs));
                    break;
                case "WaitForInstanceCompletion":
                    await UnaryAsync(context, GetInstanceRequest.Parser, async (r, ct) =>
                        ToResponse(await engine.WaitAsync(r.InstanceId, s => s.IsTerminal, ct), r.GetInputsAndOutputs));
                    break;
                case "RaiseEvent":
                    await UnaryAsync(context, RaiseEventRequest.Parser, async (r, ct) =>
                    {
                        await engine.RaiseEventAsync(r.InstanceId, r.Name, r.Input, ct);
                        return new RaiseEventResponse();
                    });
                    break;
                case "TerminateInstance":
                    await UnaryAsync(context, TerminateRequest.Parser, async (r, ct) =>
                    {
                        await engine.TerminateAsync(r.InstanceId, r.Output, r.Recursive, wait: true, ct);
                        return new TerminateResponse();
                    });
                    break;
                case "SuspendInstance":
                    await UnaryAsync(context, SuspendRequest.Parser, async (r, ct) =>
                    {
                        await engine.SuspendAsync(r.InstanceId, r.Reason, wait: true, ct);
                        return new SuspendResponse();
                    });
                    break;
                case "ResumeInstance":
                    await UnaryAsync(context, ResumeRequest.Parser, async (r, ct) =>
                    {
                        await engine.ResumeAsync(r.InstanceId, r.Reason, wait: true, ct);
                        return new ResumeResponse();
                    });
                    break;
                case "PurgeInstances":
                    await UnaryAsync(context, PurgeInstancesRequest.Parser, PurgeAsync);
                    break;
                case "GetInstanceHistory":
                    await UnaryAsync(context, GetInstanceHistoryRequest.Parser, async (r, ct) =>
                    {
                        var record = await engine.GetAsync(r.InstanceId, ct)
                            ?? throw new GrpcException(GrpcStatusCode.NotFound, $"no such instance exists: {r.InstanceId}");
                        var history = new GetInstanceHistoryResponse();
                        history.Events.AddRange(record.History);
                        return history;
                    });
                    break;
                case "GetWorkItems":
                    await GetWorkItemsAsync(context);
                    break;
                case "CompleteActivityTask":
                    await UnaryAsync(context, ActivityResponse.Parser, async (r, _) =>
                    {
                        await engine.CompleteActivityTaskAsync(r);
                        return new CompleteTaskResponse();
                    });
                    break;
                // CompleteWorkflowTask is the 1.18 name of the same call.
                case "CompleteOrchestratorTask" or "CompleteWorkflowTask":
                    await UnaryAsync(context, OrchestratorResponse.Parser, (r, _) =>
                    {
                        engine.CompleteOrchestratorTask(r);
                        return Task.FromResult<IMessage>(new CompleteTaskResponse());
                    });
                    break;
                // Dropped from the proto in Dapr 1.17 and never served by daprd; here they hand the item to the next worker.
                case "AbandonTaskActivityWorkItem" or "AbandonTaskOrchestratorWorkItem":
                    // Abandon{Activity,Orchestration}TaskRequest is { string completionToken = 1; }: the same wire
                    // shape as CreateInstanceResponse { string instanceId = 1; }, so that parser reads it.
                    await UnaryAsync(context, CreateInstanceResponse.Parser, (r, _) =>
                    {
                        engine.Dispatcher.Abandon(r.InstanceId);
                        return Task.FromResult<IMessage>(new Empty());
                    });
                    break;
                default:
                    throw new GrpcException(GrpcStatusCode.Unimplemented, path.StartsWith(PathPrefix, StringComparison.Ordinal)
                        ? $"unknown method {method} for service TaskHubSidecarService"
                        : $"unknown service or method {path}: this sidecar serves only TaskHubSidecarService on its gRPC port");
            }
        }
        catch (GrpcException e)
        {
            GrpcWire.SetStatus(response, e.StatusCode, e.Detail);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            // Kestrel enforces --max-body-size on the gRPC port too; daprd's gRPC server reports it this way.
            GrpcWire.SetStatus(response, GrpcStatusCode.ResourceExhausted, "grpc: received message larger than max");
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away (or cancelled): nobody reads the status.
        }
        catch (OperationCanceledException) when (engine.Stopping.IsCancellationRequested)
        {
            GrpcWire.SetStatus(response, GrpcStatusCode.Cancelled, "shutting down");
        }
        catch (Exception e)
        {
            logger.LogError(e, "Workflow RPC {Path} failed", context.Request.Path);
            GrpcWire.SetStatus(response, GrpcStatusCode.Internal, e.Message);
        }
    }

    private async Task UnaryAsync<T>(HttpContext context, MessageParser<T> parser, Func<T, CancellationToken, Task<IMessage>> handle)
        where T : IMessage<T>
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, engine.Stopping);
        // grpc-timeout: like grpc-go, the server gives up at the caller's deadline.
        if (GrpcWire.ParseTimeout(context.Request.Headers["grpc-timeout"]) is { } timeout)
        {
            linked.CancelAfter(timeout);
        }
        var request = await GrpcWire.ReadSingleMessageAsync(context.Request.BodyReader, parser, linked.Token);
        IMessage reply;
        try
        {
            reply = await handle(request, linked.Token);
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested && !engine.Stopping.IsCancellationRequested)
        {
            throw new GrpcException(GrpcStatusCode.DeadlineExceeded, "context deadline exceeded");
        }
        await GrpcWire.WriteMessageAsync(context.Response, reply, linked.Token);
        GrpcWire.SetStatus(context.Response, GrpcStatusCode.OK);
    }

    private async Task<IMessage> PurgeAsync(PurgeInstancesRequest request, CancellationToken cancellationToken)
    {
        if (request.RequestCase == PurgeInstancesRequest.RequestOneofCase.PurgeInstanceFilter)
        {
            // daprd: "multi-instance purge is not implemented"
            throw new GrpcException(GrpcStatusCode.Unknown, "multi-instance purge is not implemented");
        }
        var deleted = await engine.PurgeAsync(request.InstanceId, request.Recursive, cancellationToken);
        if (deleted == 0)
        {
            throw new GrpcException(GrpcStatusCode.NotFound, $"no such instance exists: {request.InstanceId}");
        }
        return new PurgeInstancesResponse { DeletedInstanceCount = deleted, IsComplete = true };
    }

    // Server stream, kept open for the worker's lifetime; ends with CANCELLED when the sidecar shuts down (as daprd).
    private async Task GetWorkItemsAsync(HttpContext context)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, engine.Stopping);
        await GrpcWire.ReadSingleMessageAsync(context.Request.BodyReader, GetWorkItemsRequest.Parser, linked.Token);
        await engine.StartAsync().WaitAsync(linked.Token);
        await context.Response.StartAsync(linked.Token);
        await context.Response.BodyWriter.FlushAsync(linked.Token);
        logger.LogInformation("Workflow worker connected ({UserAgent})", context.Request.Headers.UserAgent.ToString());
        try
        {
            await engine.Dispatcher.ServeAsync((item, ct) => GrpcWire.WriteMessageAsync(context.Response, item, ct), linked.Token);
        }
        finally
        {
            logger.LogInformation("Workflow worker disconnected");
        }
    }

    public static GetInstanceResponse ToResponse(InstanceRecord? record, bool includePayloads)
    {
        if (record is null)
        {
            return new GetInstanceResponse { Exists = false };
        }
        var state = new OrchestrationState
        {
            InstanceId = record.InstanceId,
            Name = record.Name,
            OrchestrationStatus = record.Status,
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
        return new GetInstanceResponse { Exists = true, OrchestrationState = state };
    }
}
