namespace AgentVerse.Dapr.Workflow;

/// <summary>Why an activity, child workflow or workflow failed, as recorded in history.</summary>
/// <param name="ErrorType">The exception type name.</param>
/// <param name="ErrorMessage">The exception message.</param>
/// <param name="StackTrace">The stack trace, if any.</param>
/// <param name="InnerFailure">The failure that caused this one, if any.</param>
public sealed record WorkflowTaskFailureDetails(
    string ErrorType, string ErrorMessage, string? StackTrace = null, WorkflowTaskFailureDetails? InnerFailure = null)
{
    /// <summary>True when the failure was caused by an exception of type <typeparamref name="T"/> (by full or short name).</summary>
    public bool IsCausedBy<T>()
        where T : Exception
        => string.Equals(ErrorType, typeof(T).FullName, StringComparison.Ordinal)
           || string.Equals(ErrorType, typeof(T).Name, StringComparison.Ordinal);

    /// <inheritdoc />
    public override string ToString() => $"{ErrorType}: {ErrorMessage}";
}

/// <summary>Thrown inside a workflow when an activity or child workflow it awaited failed.</summary>
public sealed class WorkflowTaskFailedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public WorkflowTaskFailedException(string message, WorkflowTaskFailureDetails failureDetails)
        : base(message)
    {
        FailureDetails = failureDetails;
    }

    /// <summary>The failure as the activity or child workflow reported it.</summary>
    public WorkflowTaskFailureDetails FailureDetails { get; }
}
