namespace AgentVerse.Dapr.Workflow;

/// <summary>Options for an activity or child workflow call.</summary>
public record WorkflowTaskOptions
{
    /// <summary>Retries the call on failure, with durable timers between attempts.</summary>
    public WorkflowRetryPolicy? RetryPolicy { get; init; }
}

/// <summary>Options for a child workflow call.</summary>
public sealed record ChildWorkflowTaskOptions : WorkflowTaskOptions
{
    /// <summary>The child's instance id; by default derived deterministically from the parent's.</summary>
    public string? InstanceId { get; init; }
}

/// <summary>
/// Retry policy for activity and child workflow calls. The delay before attempt n+1 is
/// <c>firstRetryInterval * backoffCoefficient^(n-1)</c>, capped at <c>maxRetryInterval</c>; retries stop
/// after <c>maxNumberOfAttempts</c> attempts or once <c>retryTimeout</c> has passed since the first attempt.
/// </summary>
public sealed class WorkflowRetryPolicy
{
    /// <summary>Creates a retry policy.</summary>
    public WorkflowRetryPolicy(
        int maxNumberOfAttempts,
        TimeSpan firstRetryInterval,
        double backoffCoefficient = 1.0,
        TimeSpan? maxRetryInterval = null,
        TimeSpan? retryTimeout = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxNumberOfAttempts, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(firstRetryInterval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(backoffCoefficient, 1.0);
        MaxNumberOfAttempts = maxNumberOfAttempts;
        FirstRetryInterval = firstRetryInterval;
        BackoffCoefficient = backoffCoefficient;
        MaxRetryInterval = maxRetryInterval ?? TimeSpan.FromHours(1);
        RetryTimeout = retryTimeout ?? Timeout.InfiniteTimeSpan;
    }

    /// <summary>Total attempts, including the first.</summary>
    public int MaxNumberOfAttempts { get; }

    /// <summary>Delay before the first retry.</summary>
    public TimeSpan FirstRetryInterval { get; }

    /// <summary>Multiplier applied to the delay after each retry.</summary>
    public double BackoffCoefficient { get; }

    /// <summary>Upper bound of one delay.</summary>
    public TimeSpan MaxRetryInterval { get; }

    /// <summary>Overall time budget since the first attempt; infinite by default.</summary>
    public TimeSpan RetryTimeout { get; }

    /// <summary>The delay after failed attempt <paramref name="attempt"/> (1-based).</summary>
    public TimeSpan GetDelay(int attempt)
    {
        var ticks = FirstRetryInterval.Ticks * Math.Pow(BackoffCoefficient, attempt - 1);
        return ticks >= MaxRetryInterval.Ticks ? MaxRetryInterval : TimeSpan.FromTicks((long)ticks);
    }
}
