namespace AgentVerse.Dapr.Workflow;

/// <summary>A workflow as the worker sees it: untyped input and output.</summary>
public interface IWorkflow
{
    /// <summary>The type the serialized input is read as.</summary>
    Type InputType { get; }

    /// <summary>The type of the workflow's result.</summary>
    Type OutputType { get; }

    /// <summary>Runs the workflow code. It must be deterministic: see <see cref="WorkflowContext"/>.</summary>
    Task<object?> RunAsync(WorkflowContext context, object? input);
}

/// <summary>
/// Base class for a workflow: durable, replayed code that orchestrates activities, timers, external
/// events and child workflows. One class per workflow, registered with
/// <see cref="DaprWorkflowOptions.RegisterWorkflow{TWorkflow}()"/> under its type name.
/// </summary>
/// <typeparam name="TInput">The workflow input.</typeparam>
/// <typeparam name="TOutput">The workflow result.</typeparam>
public abstract class Workflow<TInput, TOutput> : IWorkflow
{
    /// <inheritdoc />
    public Type InputType => typeof(TInput);

    /// <inheritdoc />
    public Type OutputType => typeof(TOutput);

    /// <summary>
    /// The workflow code. It is replayed from history on every step, so it must be deterministic:
    /// use <see cref="WorkflowContext.CurrentUtcDateTime"/>, <see cref="WorkflowContext.NewGuid"/> and
    /// activities instead of clocks, random numbers and I/O, and await only tasks the context returns.
    /// </summary>
    public abstract Task<TOutput> RunAsync(WorkflowContext context, TInput input);

    async Task<object?> IWorkflow.RunAsync(WorkflowContext context, object? input)
        => await RunAsync(context, (TInput)input!);
}
