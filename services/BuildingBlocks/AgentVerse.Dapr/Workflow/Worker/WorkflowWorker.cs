using AgentVerse.Dapr.Workflow.Grpc;
using AgentVerse.Dapr.Workflow.Protocol;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentVerse.Dapr.Workflow.Worker;

/// <summary>
/// Hosted service that pulls work items from the sidecar's <c>GetWorkItems</c> stream, runs workflow
/// steps and activities, and reports each result with <c>CompleteOrchestratorTask</c> /
/// <c>CompleteActivityTask</c>. Reconnects with exponential backoff when the stream ends; the sidecar
/// redelivers whatever was in flight on a dropped stream.
/// </summary>
internal sealed class WorkflowWorker : BackgroundService
{
    private const string Service = "/TaskHubSidecarService/";

    private readonly GrpcCallInvoker _invoker;
    private readonly OrchestrationExecutor _orchestrations;
    private readonly ActivityExecutor _activities;
    private readonly DaprWorkflowOptions _options;
    private readonly ILogger<WorkflowWorker> _logger;
    private readonly SemaphoreSlim _workflowSlots;
    private readonly SemaphoreSlim _activitySlots;

    public WorkflowWorker(
        WorkflowSidecarConnection connection,
        IOptions<DaprWorkflowOptions> options,
        IServiceProvider services,
        ILoggerFactory loggerFactory)
    {
        _options = options.Value;
        _invoker = connection.Invoker;
        var serializer = new WorkflowSerializer(_options.JsonSerializerOptions);
        _orchestrations = new OrchestrationExecutor(_options.Registry, services, serializer, loggerFactory);
        _activities = new ActivityExecutor(_options.Registry, services, serializer);
        _logger = loggerFactory.CreateLogger<WorkflowWorker>();
        _workflowSlots = new SemaphoreSlim(Math.Max(1, _options.MaxConcurrentWorkflows));
        _activitySlots = new SemaphoreSlim(Math.Max(1, _options.MaxConcurrentActivities));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_options.Registry.WorkflowNames.Count == 0 && _options.Registry.ActivityNames.Count == 0)
        {
            _logger.LogInformation("No workflows or activities are registered; the workflow worker is not started");
            return;
        }

        var delay = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _invoker.UnaryAsync(Service + "Hello", new Empty(), Empty.Parser, TimeSpan.FromSeconds(10), stoppingToken);
                _logger.LogInformation(
                    "Workflow worker connected to {Address} with {WorkflowCount} workflows and {ActivityCount} activities",
                    _invoker.Address, _options.Registry.WorkflowNames.Count, _options.Registry.ActivityNames.Count);
                delay = TimeSpan.FromSeconds(1);

                await foreach (var workItem in _invoker.ServerStreamingAsync(
                                   Service + "GetWorkItems", new GetWorkItemsRequest(), WorkItem.Parser, cancellationToken: stoppingToken))
                {
                    await DispatchAsync(workItem, stoppingToken);
                }

                _logger.LogInformation("The work item stream from {Address} ended; reconnecting", _invoker.Address);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (GrpcException ex)
            {
                _logger.LogWarning("Workflow worker lost the sidecar at {Address} ({StatusCode}: {Detail}); retrying in {Delay}",
                    _invoker.Address, ex.StatusCode, ex.Detail, delay);
            }
            catch (Exception ex)
            {
                _logger.LogError(ex, "Workflow worker failed; retrying in {Delay}", delay);
            }

            try
            {
                // Jitter keeps many workers from reconnecting in lockstep after a sidecar restart.
                await Task.Delay(delay + TimeSpan.FromMilliseconds(Random.Shared.Next(0, 250)), stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxReconnectDelay.Ticks));
        }
    }

    /// <summary>Waits for a free slot (backpressure on the stream), then runs the item in the background.</summary>
    private async Task DispatchAsync(WorkItem workItem, CancellationToken stoppingToken)
    {
        switch (workItem.RequestCase)
        {
            case WorkItem.RequestOneofCase.OrchestratorRequest:
                await _workflowSlots.WaitAsync(stoppingToken);
                _ = Task.Run(() => RunOrchestrationAsync(workItem.OrchestratorRequest, workItem.CompletionToken, stoppingToken), CancellationToken.None);
                break;
            case WorkItem.RequestOneofCase.ActivityRequest:
                await _activitySlots.WaitAsync(stoppingToken);
                _ = Task.Run(() => RunActivityAsync(workItem.ActivityRequest, workItem.CompletionToken, stoppingToken), CancellationToken.None);
                break;
            default:
                _logger.LogDebug("Ignoring a work item of kind {Kind}", workItem.RequestCase);
                break;
        }
    }

    private async Task RunOrchestrationAsync(OrchestratorRequest request, string completionToken, CancellationToken stoppingToken)
    {
        try
        {
            OrchestratorResponse response;
            try
            {
                response = _orchestrations.Execute(request, completionToken);
            }
            catch (Exception ex)
            {
                // A bug in the executor, not in the workflow: fail the instance rather than loop on it.
                _logger.LogError(ex, "Workflow step for instance {InstanceId} failed unexpectedly", request.InstanceId);
                response = new OrchestratorResponse { InstanceId = request.InstanceId, CompletionToken = completionToken };
                response.Actions.Add(new OrchestratorAction
                {
                    Id = -1,
                    CompleteOrchestration = new CompleteOrchestrationAction
                    {
                        OrchestrationStatus = OrchestrationStatus.Failed,
                        FailureDetails = FailureDetailsConverter.FromException(ex),
                    },
                });
            }

            LogFailure(response);
            await _invoker.UnaryAsync(Service + "CompleteOrchestratorTask", response, CompleteTaskResponse.Parser, cancellationToken: stoppingToken);
        }
        catch (Exception ex) when (ex is GrpcException or OperationCanceledException)
        {
            // The sidecar redelivers the step when the stream reconnects.
            _logger.LogWarning("Could not report the workflow step for instance {InstanceId}: {Error}", request.InstanceId, ex.Message);
        }
        finally
        {
            _workflowSlots.Release();
        }
    }

    private void LogFailure(OrchestratorResponse response)
    {
        foreach (var action in response.Actions)
        {
            if (action.CompleteOrchestration is { OrchestrationStatus: OrchestrationStatus.Failed, FailureDetails: { } failure })
            {
                _logger.LogWarning("Workflow instance {InstanceId} failed: {ErrorType}: {ErrorMessage}",
                    response.InstanceId, failure.ErrorType, failure.ErrorMessage);
            }
        }
    }

    private async Task RunActivityAsync(ActivityRequest request, string completionToken, CancellationToken stoppingToken)
    {
        try
        {
            var response = await _activities.ExecuteAsync(request, completionToken, stoppingToken);
            await _invoker.UnaryAsync(Service + "CompleteActivityTask", response, CompleteTaskResponse.Parser, cancellationToken: stoppingToken);
        }
        catch (Exception ex)
        {
            _logger.LogWarning("Could not run or report activity {ActivityName} #{TaskId} of instance {InstanceId}: {Error}",
                request.Name, request.TaskId, request.OrchestrationInstance?.InstanceId, ex.Message);
        }
        finally
        {
            _activitySlots.Release();
        }
    }

    public override void Dispose()
    {
        _workflowSlots.Dispose();
        _activitySlots.Dispose();
        base.Dispose();
    }
}

/// <summary>The gRPC connection to the sidecar shared by the worker and <see cref="DaprWorkflowClient"/>.</summary>
internal sealed class WorkflowSidecarConnection(IOptions<DaprWorkflowOptions> options) : IDisposable
{
    // Receive size unlimited, as in the Dapr SDKs: every work item carries the full history, and a
    // limit here would turn a large history into an endless reconnect loop.
    public GrpcCallInvoker Invoker { get; } = new(
        options.Value.GrpcEndpoint ?? GrpcCallInvoker.GetSidecarAddressFromEnvironment(),
        options.Value.ApiToken ?? Environment.GetEnvironmentVariable("DAPR_API_TOKEN"),
        maxMessageSize: int.MaxValue);

    public void Dispose() => Invoker.Dispose();
}
