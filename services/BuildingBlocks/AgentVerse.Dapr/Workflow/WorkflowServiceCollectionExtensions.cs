using AgentVerse.Dapr.Workflow;
using AgentVerse.Dapr.Workflow.Worker;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Dapr workflow support.</summary>
public static class WorkflowServiceCollectionExtensions
{
    /// <summary>
    /// Adds the workflow worker (a hosted service connected to the sidecar's gRPC port) and
    /// <see cref="DaprWorkflowClient"/>: <c>services.AddDaprWorkflow(o => { o.RegisterWorkflow&lt;MyWorkflow&gt;(); o.RegisterActivity&lt;MyActivity&gt;(); })</c>.
    /// </summary>
    public static IServiceCollection AddDaprWorkflow(this IServiceCollection services, Action<DaprWorkflowOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<DaprWorkflowOptions>()
            .Configure(configure)
            .Validate(o => o.MaxConcurrentWorkflows > 0 && o.MaxConcurrentActivities > 0, "Workflow concurrency limits must be positive.")
            .Validate(o => o.GrpcEndpoint is null || o.GrpcEndpoint.IsAbsoluteUri, "GrpcEndpoint must be an absolute http:// address.")
            .ValidateOnStart();
        services.AddLogging();
        services.TryAddSingleton<WorkflowSidecarConnection>();
        services.TryAddSingleton(sp => new DaprWorkflowClient(
            sp.GetRequiredService<WorkflowSidecarConnection>().Invoker,
            sp.GetRequiredService<IOptions<DaprWorkflowOptions>>().Value.JsonSerializerOptions));
        services.AddHostedService<WorkflowWorker>();
        return services;
    }
}
