using Dapr.Workflow;

namespace AgentVerse.CrashApp;

/// <summary>Runs <c>steps</c> activities one after another; returns how many completed.</summary>
public sealed class StepChainWorkflow : Workflow<int, int>
{
    public override async Task<int> RunAsync(WorkflowContext context, int steps)
    {
        var done = 0;
        for (var step = 1; step <= steps; step++)
        {
            done += await context.CallActivityAsync<int>(nameof(RecordStepActivity), step);
        }

        return done;
    }
}
