using AgentVerse.Dapr.Workflow.Protocol;
using Microsoft.Extensions.Logging;

namespace AgentVerse.Dapr.Workflow.Worker;

/// <summary>Runs one workflow step: an <see cref="OrchestratorRequest"/> in, the new actions out.</summary>
internal sealed class OrchestrationExecutor(
    WorkflowRegistry registry, IServiceProvider services, WorkflowSerializer serializer, ILoggerFactory loggerFactory)
{
    public OrchestratorResponse Execute(OrchestratorRequest request, string completionToken = "")
    {
        ArgumentNullException.ThrowIfNull(request);
        var context = new ReplayWorkflowContext(request.InstanceId, registry, services, serializer, loggerFactory);
        return context.Execute(request, completionToken);
    }
}
