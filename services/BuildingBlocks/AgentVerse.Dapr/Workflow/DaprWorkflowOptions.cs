using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace AgentVerse.Dapr.Workflow;

/// <summary>Workflow and activity registrations and the worker's connection settings.</summary>
public sealed class DaprWorkflowOptions
{
    internal WorkflowRegistry Registry { get; } = new();

    /// <summary>
    /// The sidecar's gRPC address. Default: <c>DAPR_GRPC_ENDPOINT</c>, else
    /// <c>http://127.0.0.1:{DAPR_GRPC_PORT}</c> (port 50001).
    /// </summary>
    public Uri? GrpcEndpoint { get; set; }

    /// <summary>Sent as <c>dapr-api-token</c> on every call. Default: <c>DAPR_API_TOKEN</c>.</summary>
    public string? ApiToken { get; set; }

    /// <summary>Most workflow steps executed at once.</summary>
    public int MaxConcurrentWorkflows { get; set; } = 100;

    /// <summary>Most activities executed at once.</summary>
    public int MaxConcurrentActivities { get; set; } = 100;

    /// <summary>Longest wait between reconnection attempts when the work item stream drops.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How inputs, outputs, events and custom status are serialized (web defaults: camelCase).</summary>
    public JsonSerializerOptions JsonSerializerOptions { get; set; } = new(JsonSerializerDefaults.Web);

    /// <summary>Registers workflow <typeparamref name="TWorkflow"/> under its type name.</summary>
    public void RegisterWorkflow<TWorkflow>()
        where TWorkflow : class, IWorkflow
        => RegisterWorkflow<TWorkflow>(typeof(TWorkflow).Name);

    /// <summary>Registers workflow <typeparamref name="TWorkflow"/> under <paramref name="name"/>.</summary>
    public void RegisterWorkflow<TWorkflow>(string name)
        where TWorkflow : class, IWorkflow
        => Registry.AddWorkflow(name, services => ActivatorUtilities.CreateInstance<TWorkflow>(services));

    /// <summary>Registers a workflow implemented by a delegate.</summary>
    public void RegisterWorkflow<TInput, TOutput>(string name, Func<WorkflowContext, TInput, Task<TOutput>> implementation)
    {
        ArgumentNullException.ThrowIfNull(implementation);
        Registry.AddWorkflow(name, _ => new DelegateWorkflow<TInput, TOutput>(implementation));
    }

    /// <summary>Registers activity <typeparamref name="TActivity"/> under its type name.</summary>
    public void RegisterActivity<TActivity>()
        where TActivity : class, IWorkflowActivity
        => RegisterActivity<TActivity>(typeof(TActivity).Name);

    /// <summary>Registers activity <typeparamref name="TActivity"/> under <paramref name="name"/>.</summary>
    public void RegisterActivity<TActivity>(string name)
        where TActivity : class, IWorkflowActivity
        => Registry.AddActivity(name, services => ActivatorUtilities.CreateInstance<TActivity>(services));

    /// <summary>Registers an activity implemented by a delegate.</summary>
    public void RegisterActivity<TInput, TOutput>(string name, Func<WorkflowActivityContext, TInput, Task<TOutput>> implementation)
    {
        ArgumentNullException.ThrowIfNull(implementation);
        Registry.AddActivity(name, _ => new DelegateActivity<TInput, TOutput>(implementation));
    }

    private sealed class DelegateWorkflow<TInput, TOutput>(Func<WorkflowContext, TInput, Task<TOutput>> implementation)
        : Workflow<TInput, TOutput>
    {
        public override Task<TOutput> RunAsync(WorkflowContext context, TInput input) => implementation(context, input);
    }

    private sealed class DelegateActivity<TInput, TOutput>(Func<WorkflowActivityContext, TInput, Task<TOutput>> implementation)
        : WorkflowActivity<TInput, TOutput>
    {
        public override Task<TOutput> RunAsync(WorkflowActivityContext context, TInput input) => implementation(context, input);
    }
}

/// <summary>Name → factory maps for workflows and activities (names are case-sensitive, as in Dapr).</summary>
internal sealed class WorkflowRegistry
{
    private readonly Dictionary<string, Func<IServiceProvider, IWorkflow>> _workflows = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<IServiceProvider, IWorkflowActivity>> _activities = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> WorkflowNames => _workflows.Keys;

    public IReadOnlyCollection<string> ActivityNames => _activities.Keys;

    public void AddWorkflow(string name, Func<IServiceProvider, IWorkflow> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!_workflows.TryAdd(name, factory))
        {
            throw new ArgumentException($"A workflow named '{name}' is already registered.", nameof(name));
        }
    }

    public void AddActivity(string name, Func<IServiceProvider, IWorkflowActivity> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!_activities.TryAdd(name, factory))
        {
            throw new ArgumentException($"An activity named '{name}' is already registered.", nameof(name));
        }
    }

    public bool TryCreateWorkflow(string name, IServiceProvider services, out IWorkflow workflow)
    {
        if (_workflows.TryGetValue(name, out var factory))
        {
            workflow = factory(services);
            return true;
        }

        workflow = null!;
        return false;
    }

    public bool TryCreateActivity(string name, IServiceProvider services, out IWorkflowActivity activity)
    {
        if (_activities.TryGetValue(name, out var factory))
        {
            activity = factory(services);
            return true;
        }

        activity = null!;
        return false;
    }
}
