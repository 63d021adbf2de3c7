using AgentVerse.Dapr.Workflow.Protocol;
using Microsoft.Extensions.DependencyInjection;

namespace AgentVerse.Dapr.Workflow.Worker;

/// <summary>Runs one activity in its own DI scope and turns the outcome into an <see cref="ActivityResponse"/>.</summary>
internal sealed class ActivityExecutor(WorkflowRegistry registry, IServiceProvider services, WorkflowSerializer serializer)
{
    public const string ActivityNotRegisteredErrorType = "ActivityNotRegisteredException";

    public async Task<ActivityResponse> ExecuteAsync(ActivityRequest request, string completionToken, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var instanceId = request.OrchestrationInstance?.InstanceId ?? string.Empty;
        var response = new ActivityResponse
        {
            InstanceId = instanceId,
            TaskId = request.TaskId,
            CompletionToken = completionToken,
        };

        await using var scope = services.CreateAsyncScope();
        try
        {
            if (!registry.TryCreateActivity(request.Name, scope.ServiceProvider, out var activity))
            {
                response.FailureDetails = new TaskFailureDetails
                {
                    ErrorType = ActivityNotRegisteredErrorType,
                    ErrorMessage = $"No activity named '{request.Name}' is registered with this worker.",
                };
                return response;
            }

            var input = serializer.Deserialize(request.Input, activity.InputType);
            var context = new WorkflowActivityContext(request.Name, instanceId, request.TaskId, request.TaskExecutionId, cancellationToken);
            var output = await activity.RunAsync(context, input);
            response.Result = serializer.Serialize(output);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested || ex is not OperationCanceledException)
        {
            response.FailureDetails = FailureDetailsConverter.FromException(ex);
        }

        return response;
    }
}
