using Dapr.Workflow;

namespace AgentVerse.SdkApp;

/// <summary>Adds one, three times in a row.</summary>
public sealed class ChainWorkflow : Workflow<int, int>
{
    public override async Task<int> RunAsync(WorkflowContext context, int input)
    {
        var value = input;
        for (var step = 0; step < 3; step++)
        {
            value = await context.CallActivityAsync<int>(nameof(AddOneActivity), value);
        }
        return value;
    }
}

/// <summary>Squares 1..n in parallel and sums the squares.</summary>
public sealed class FanOutWorkflow : Workflow<int, int>
{
    public override async Task<int> RunAsync(WorkflowContext context, int count)
    {
        var squares = await Task.WhenAll(Enumerable.Range(1, count).Select(i => context.CallActivityAsync<int>(nameof(SquareActivity), i)));
        return squares.Sum();
    }
}

/// <summary>Sleeps on a durable timer for the given number of milliseconds.</summary>
public sealed class TimerWorkflow : Workflow<int, string>
{
    public override async Task<string> RunAsync(WorkflowContext context, int milliseconds)
    {
        await context.CreateTimer(TimeSpan.FromMilliseconds(milliseconds));
        return "woke";
    }
}

/// <summary>Waits for an "approval" event for the given number of milliseconds.</summary>
public sealed class ApprovalWorkflow : Workflow<int, string>
{
    public override async Task<string> RunAsync(WorkflowContext context, int timeoutMilliseconds)
    {
        try
        {
            return await context.WaitForExternalEventAsync<string>("approval", TimeSpan.FromMilliseconds(timeoutMilliseconds));
        }
        catch (TaskCanceledException)
        {
            return "timed out";
        }
    }
}

public sealed class AddOneActivity : WorkflowActivity<int, int>
{
    public override Task<int> RunAsync(WorkflowActivityContext context, int input) => Task.FromResult(input + 1);
}

public sealed class SquareActivity : WorkflowActivity<int, int>
{
    public override Task<int> RunAsync(WorkflowActivityContext context, int input) => Task.FromResult(input * input);
}
