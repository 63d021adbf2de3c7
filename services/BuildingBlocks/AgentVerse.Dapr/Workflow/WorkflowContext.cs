using Microsoft.Extensions.Logging;

namespace AgentVerse.Dapr.Workflow;

/// <summary>
/// The durable operations a workflow can perform. Every task it returns is resolved from history
/// during replay, so workflow code must await only these tasks (with <see cref="Task.WhenAll(Task[])"/>
/// and <see cref="Task.WhenAny(Task[])"/> as needed), never real I/O, clocks or <see cref="Task.Delay(TimeSpan)"/>.
/// </summary>
public abstract class WorkflowContext
{
    /// <summary>The workflow name.</summary>
    public abstract string Name { get; }

    /// <summary>The workflow instance id.</summary>
    public abstract string InstanceId { get; }

    /// <summary>The deterministic current time: when the current step started, identical on replay.</summary>
    public abstract DateTime CurrentUtcDateTime { get; }

    /// <summary>True while the code is re-executing steps that already happened.</summary>
    public abstract bool IsReplaying { get; }

    /// <summary>Schedules activity <paramref name="name"/> and returns its deserialized result.</summary>
    /// <exception cref="WorkflowTaskFailedException">The activity failed (after all retries).</exception>
    public abstract Task<TResult> CallActivityAsync<TResult>(string name, object? input = null, WorkflowTaskOptions? options = null);

    /// <summary>Schedules activity <paramref name="name"/> and waits for it to finish.</summary>
    /// <exception cref="WorkflowTaskFailedException">The activity failed (after all retries).</exception>
    public virtual Task CallActivityAsync(string name, object? input = null, WorkflowTaskOptions? options = null)
        => CallActivityAsync<object?>(name, input, options);

    /// <summary>Schedules workflow <paramref name="workflowName"/> as a child and returns its result.</summary>
    /// <exception cref="WorkflowTaskFailedException">The child workflow failed (after all retries).</exception>
    public abstract Task<TResult> CallChildWorkflowAsync<TResult>(string workflowName, object? input = null, ChildWorkflowTaskOptions? options = null);

    /// <summary>Schedules workflow <paramref name="workflowName"/> as a child and waits for it to finish.</summary>
    public virtual Task CallChildWorkflowAsync(string workflowName, object? input = null, ChildWorkflowTaskOptions? options = null)
        => CallChildWorkflowAsync<object?>(workflowName, input, options);

    /// <summary>A durable timer that fires after <paramref name="delay"/> from <see cref="CurrentUtcDateTime"/>.</summary>
    public virtual Task CreateTimer(TimeSpan delay, CancellationToken cancellationToken = default)
        => CreateTimer(CurrentUtcDateTime.Add(delay), cancellationToken);

    /// <summary>
    /// A durable timer that fires at <paramref name="fireAt"/> (UTC). Cancelling the token cancels the
    /// returned task; cancel with <see cref="CancellationTokenSource.Cancel()"/>, since
    /// <see cref="CancellationTokenSource.CancelAsync"/> runs callbacks outside the replay.
    /// </summary>
    public abstract Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken);

    /// <summary>
    /// Waits for the external event <paramref name="eventName"/> (case-insensitive, first come first served;
    /// events raised before the wait are buffered).
    /// </summary>
    public abstract Task<T> WaitForExternalEventAsync<T>(string eventName, CancellationToken cancellationToken = default);

    /// <summary>Waits for an external event, up to <paramref name="timeout"/> (a durable timer).</summary>
    /// <exception cref="TaskCanceledException">The timeout fired before the event arrived.</exception>
    public abstract Task<T> WaitForExternalEventAsync<T>(string eventName, TimeSpan timeout);

    /// <summary>Sets the custom status reported by <see cref="DaprWorkflowClient.GetWorkflowStateAsync"/>.</summary>
    public abstract void SetCustomStatus(object? customStatus);

    /// <summary>
    /// Restarts the workflow with <paramref name="newInput"/> and a fresh history once the current run
    /// returns. With <paramref name="preserveUnprocessedEvents"/>, external events not yet consumed are
    /// carried over to the new run.
    /// </summary>
    public abstract void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true);

    /// <summary>A new GUID that is the same on every replay.</summary>
    public abstract Guid NewGuid();

    /// <summary>A logger that writes only when the code is not replaying.</summary>
    public abstract ILogger CreateReplaySafeLogger(string categoryName);

    /// <summary>A logger that writes only when the code is not replaying.</summary>
    public virtual ILogger CreateReplaySafeLogger(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return CreateReplaySafeLogger(type.FullName ?? type.Name);
    }

    /// <summary>A logger that writes only when the code is not replaying.</summary>
    public virtual ILogger CreateReplaySafeLogger<T>() => CreateReplaySafeLogger(typeof(T));
}
