using AgentVerse.Dapr.Workflow.Protocol;

namespace AgentVerse.Dapr.Workflow.Worker;

/// <summary>Maps exceptions and failure records to and from the protocol's <see cref="TaskFailureDetails"/>.</summary>
internal static class FailureDetailsConverter
{
    public static TaskFailureDetails FromException(Exception exception)
    {
        var details = new TaskFailureDetails
        {
            ErrorType = exception.GetType().FullName ?? exception.GetType().Name,
            ErrorMessage = exception.Message,
            StackTrace = exception.StackTrace,
        };
        if (exception is WorkflowTaskFailedException taskFailed)
        {
            details.InnerFailure = FromDetails(taskFailed.FailureDetails);
        }
        else if (exception.InnerException is { } inner)
        {
            details.InnerFailure = FromException(inner);
        }

        return details;
    }

    public static TaskFailureDetails FromDetails(WorkflowTaskFailureDetails details) => new()
    {
        ErrorType = details.ErrorType,
        ErrorMessage = details.ErrorMessage,
        StackTrace = details.StackTrace,
        InnerFailure = details.InnerFailure is null ? null : FromDetails(details.InnerFailure),
    };

    public static WorkflowTaskFailureDetails? ToDetails(TaskFailureDetails? details) => details is null
        ? null
        : new WorkflowTaskFailureDetails(details.ErrorType, details.ErrorMessage, details.StackTrace, ToDetails(details.InnerFailure));
}
