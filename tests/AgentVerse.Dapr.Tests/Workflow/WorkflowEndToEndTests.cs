using System.Collections.Concurrent;
using AgentVerse.Dapr.Workflow;
using AgentVerse.Runtime;
using AgentVerse.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentVerse.Dapr.Tests.Workflow;

/// <summary>
/// The library's worker and client against the real local runtime (its TaskHubSidecarService and
/// workflow engine over h2c), one runtime and one worker host for the class.
/// </summary>
public sealed class WorkflowAppFixture : IAsyncLifetime
{
    private string _directory = null!;
    private LocalRuntime _runtime = null!;
    private IHost _host = null!;

    public DaprWorkflowClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _directory = await ResourcesDirectory.CreateAsync(ComponentYaml.SqliteActorStore);
        _runtime = await LocalRuntime.StartAsync(
            [new SidecarOptions { AppId = "wf-e2e", ResourcesPaths = [_directory] }], NullLoggerFactory.Instance, CancellationToken.None);

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddDaprWorkflow(o =>
        {
            o.GrpcEndpoint = new Uri($"http://127.0.0.1:{_runtime["wf-e2e"].GrpcPort}");
            o.RegisterWorkflow<ChainWorkflow>();
            o.RegisterWorkflow<FanOutWorkflow>();
            o.RegisterWorkflow<RetryWorkflow>();
            o.RegisterWorkflow<TimerWorkflow>();
            o.RegisterWorkflow<ApprovalWorkflow>();
            o.RegisterWorkflow<CounterWorkflow>();
            o.RegisterWorkflow<ParentWorkflow>();
            o.RegisterWorkflow<DriftingWorkflow>();
            o.RegisterActivity<DoubleActivity>();
            o.RegisterActivity<SquareActivity>();
            o.RegisterActivity<FlakyActivity>();
            o.RegisterActivity<StepOneActivity>();
            o.RegisterActivity<StepTwoActivity>();
        });
        _host = builder.Build();
        await _host.StartAsync();
        Client = _host.Services.GetRequiredService<DaprWorkflowClient>();
    }

    public async Task DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        await _runtime.DisposeAsync();
        TempDirectory.Delete(_directory);
    }
}

public sealed class WorkflowEndToEndTests(WorkflowAppFixture app) : IClassFixture<WorkflowAppFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private DaprWorkflowClient Client => app.Client;

    private async Task<WorkflowState> CompleteAsync(string instanceId)
    {
        using var cts = new CancellationTokenSource(Patience);
        return await Client.WaitForWorkflowCompletionAsync(instanceId, cancellationToken: cts.Token);
    }

    private static string NewId() => Guid.NewGuid().ToString("N");

    [Fact]
    public async Task A_chain_of_activities_completes_with_the_last_result()
    {
        var id = await Client.ScheduleNewWorkflowAsync(nameof(ChainWorkflow), NewId(), input: 1);

        var state = await CompleteAsync(id);

        Assert.Equal(WorkflowRuntimeStatus.Completed, state.RuntimeStatus);
        Assert.Equal(8, state.ReadOutputAs<int>());
        Assert.Equal(1, state.ReadInputAs<int>());
        Assert.Equal(nameof(ChainWorkflow), state.Name);
        Assert.True(state.CreatedAt > DateTimeOffset.UnixEpoch);
    }

    [Fact]
    public async Task Fan_out_to_50_activities_and_fan_in_sums_every_result()
    {
        var id = await Client.ScheduleNewWorkflowAsync(nameof(FanOutWorkflow), NewId(), input: 50);

        var state = await CompleteAsync(id);

        Assert.Equal(WorkflowRuntimeStatus.Completed, state.RuntimeStatus);
        Assert.Equal(Enumerable.Range(0, 50).Sum(i => i * i), state.ReadOutputAs<int>());
    }

    [Fact]
    public async Task A_flaky_activity_is_retried_by_the_policy_until_it_succeeds()
    {
        var id = await Client.ScheduleNewWorkflowAsync(nameof(RetryWorkflow), NewId(), input: 2);

        var state = await CompleteAsync(id);

        Assert.Equal(WorkflowRuntimeStatus.Completed, state.RuntimeStatus);
        Assert.Equal("succeeded on attempt 3", state.ReadOutputAs<string>());
    }

    [Fact]
    public async Task Retries_give_up_after_the_maximum_attempts_and_the_workflow_fails()
    {
        var id = await Client.ScheduleNewWorkflowAsync(nameof(RetryWorkflow), NewId(), input: 10);

        var state = await CompleteAsync(id);

        Assert.Equal(WorkflowRuntimeStatus.Failed, state.RuntimeStatus);
        Assert.NotNull(state.FailureDetails);
        Assert.True(state.FailureDetails.IsCausedBy<WorkflowTaskFailedException>());
        Assert.Contains("attempt 3", state.FailureDetails.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_durable_timer_delays_the_workflow()
    {
        var id = await Client.ScheduleNewWorkflowAsync(nameof(TimerWorkflow), NewId(), input: 1);

        var state = await CompleteAsync(id);

        Assert.Equal(WorkflowRuntimeStatus.Completed, state.RuntimeStatus);
        Assert.True(state.ReadOutputAs<double>() >= 1.0, $"timer took {state.SerializedOutput}s");
    }

    [Fact]
    public async Task A_raised_event_completes_a_wait_with_its_payload()
    {
        var id = await Client.ScheduleNewWorkflowAsync(nameof(ApprovalWorkflow), NewId(), input: 60);
        await Client.WaitForWorkflowStartAsync(id);

        await Client.RaiseEventAsync(id, "approve", new Approval("alice", true));
        var state = await CompleteAsync(id);

        Assert.Equal("approved by alice", state.ReadOutputAs<string>());
    }

    [Fact]
    public async Task A_wait_with_a_timeout_ends_when_no_event_arrives()
    {
        var id = await Client.ScheduleNewWorkflowAsync(nameof(ApprovalWorkflow), NewId(), input: 1);

        var state = await CompleteAsync(id);

        Assert.Equal("timed out", state.ReadOutputAs<string>());
    }

    [Fact]
    public async Task Custom_status_is_visible_while_the_workflow_waits()
    {
        var id = await Client.ScheduleNewWorkflowAsync(nameof(ApprovalWorkflow), NewId(), input: 60);

        var state = await PollAsync(id, s => s.SerializedCustomStatus is not null);

        Assert.Equal("waiting for approval", state.ReadCustomStatusAs<string>());
        await Client.TerminateWorkflowAsync(id);
    }

    [Fact]
    public async Task Terminate_ends_a_waiting_workflow_with_the_given_output()
    {
        var id = await Client.ScheduleNewWorkflowAsync(nameof(ApprovalWorkflow), NewId(), input: 600);
        await Client.WaitForWorkflowStartAsync(id);

        await Client.TerminateWorkflowAsync(id, "stopped by test");
        var state = await CompleteAsync(id);

        Assert.Equal(WorkflowRuntimeStatus.Terminated, state.RuntimeStatus);
        Assert.Equal("stopped by test", state.ReadOutputAs<string>());
    }

    [Fact]
    public async Task A_suspended_workflow_holds_events_until_it_is_resumed()
    {
        var id = await Client.ScheduleNewWorkflowAsync(nameof(ApprovalWorkflow), NewId(), input: 600);
        await Client.WaitForWorkflowStartAsync(id);

        await Client.SuspendWorkflowAsync(id, "maintenance");
        await Client.RaiseEventAsync(id, "approve", new Approval("bob", true));
        await Task.Delay(500);
        var suspended = await Client.GetWorkflowStateAsync(id);
        Assert.Equal(WorkflowRuntimeStatus.Suspended, suspended!.RuntimeStatus);

        await Client.ResumeWorkflowAsync(id);
        var state = await CompleteAsync(id);

        Assert.Equal(WorkflowRuntimeStatus.Completed, state.RuntimeStatus);
        Assert.Equal("approved by bob", state.ReadOutputAs<string>());
    }

    [Fact]
    public async Task Purge_removes_a_finished_instance()
    {
        var id = await Client.ScheduleNewWorkflowAsync(nameof(ChainWorkflow), NewId(), input: 2);
        await CompleteAsync(id);

        Assert.True(await Client.PurgeInstanceAsync(id));

        Assert.Null(await Client.GetWorkflowStateAsync(id));
    }

    [Fact]
    public async Task An_unknown_instance_has_no_state()
    {
        Assert.Null(await Client.GetWorkflowStateAsync("no-such-instance"));
    }

    [Fact]
    public async Task ContinueAsNew_restarts_the_workflow_until_it_is_done()
    {
        var id = await Client.ScheduleNewWorkflowAsync(nameof(CounterWorkflow), NewId(), input: 0);

        var state = await CompleteAsync(id);

        Assert.Equal(WorkflowRuntimeStatus.Completed, state.RuntimeStatus);
        Assert.Equal(3, state.ReadOutputAs<int>());
    }

    [Fact]
    public async Task A_child_workflow_runs_and_returns_its_result_to_the_parent()
    {
        var id = await Client.ScheduleNewWorkflowAsync(nameof(ParentWorkflow), NewId(), input: 3);

        var state = await CompleteAsync(id);

        Assert.Equal(WorkflowRuntimeStatus.Completed, state.RuntimeStatus);
        Assert.Equal(24, state.ReadOutputAs<int>());
    }

    [Fact]
    public async Task Changing_workflow_code_under_a_running_instance_fails_it_as_non_deterministic()
    {
        var id = NewId();
        DriftingWorkflow.UseStepTwo[id] = false;
        await Client.ScheduleNewWorkflowAsync(nameof(DriftingWorkflow), id);
        await PollAsync(id, s => s.SerializedCustomStatus is not null);

        DriftingWorkflow.UseStepTwo[id] = true;
        await Client.RaiseEventAsync(id, "go");
        var state = await CompleteAsync(id);

        Assert.Equal(WorkflowRuntimeStatus.Failed, state.RuntimeStatus);
        Assert.Equal("NonDeterministicWorkflowException", state.FailureDetails!.ErrorType);
        Assert.Contains(nameof(StepOneActivity), state.FailureDetails.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains(nameof(StepTwoActivity), state.FailureDetails.ErrorMessage, StringComparison.Ordinal);
    }

    private async Task<WorkflowState> PollAsync(string id, Func<WorkflowState, bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var state = await Client.GetWorkflowStateAsync(id);
            if (state is not null && condition(state))
            {
                return state;
            }

            Assert.True(DateTime.UtcNow < deadline, $"workflow {id} never reached the expected state");
            await Task.Delay(100);
        }
    }
}

public sealed record Approval(string By, bool Approved);

public sealed class ChainWorkflow : Workflow<int, int>
{
    public override async Task<int> RunAsync(WorkflowContext context, int input)
    {
        var x = await context.CallActivityAsync<int>(nameof(DoubleActivity), input);
        x = await context.CallActivityAsync<int>(nameof(DoubleActivity), x);
        return await context.CallActivityAsync<int>(nameof(DoubleActivity), x);
    }
}

public sealed class FanOutWorkflow : Workflow<int, int>
{
    public override async Task<int> RunAsync(WorkflowContext context, int input)
    {
        var squares = await Task.WhenAll(Enumerable.Range(0, input).Select(i => context.CallActivityAsync<int>(nameof(SquareActivity), i)));
        return squares.Sum();
    }
}

public sealed class RetryWorkflow : Workflow<int, string>
{
    private static readonly WorkflowTaskOptions Retry = new()
    {
        RetryPolicy = new WorkflowRetryPolicy(maxNumberOfAttempts: 3, firstRetryInterval: TimeSpan.FromMilliseconds(200), backoffCoefficient: 2),
    };

    public override Task<string> RunAsync(WorkflowContext context, int failures)
        => context.CallActivityAsync<string>(nameof(FlakyActivity), new FlakyInput(context.InstanceId, failures), Retry);
}

public sealed class TimerWorkflow : Workflow<int, double>
{
    public override async Task<double> RunAsync(WorkflowContext context, int seconds)
    {
        var start = context.CurrentUtcDateTime;
        await context.CreateTimer(TimeSpan.FromSeconds(seconds));
        return (context.CurrentUtcDateTime - start).TotalSeconds;
    }
}

public sealed class ApprovalWorkflow : Workflow<int, string>
{
    public override async Task<string> RunAsync(WorkflowContext context, int timeoutSeconds)
    {
        context.SetCustomStatus("waiting for approval");
        try
        {
            var approval = await context.WaitForExternalEventAsync<Approval>("approve", TimeSpan.FromSeconds(timeoutSeconds));
            return approval.Approved ? $"approved by {approval.By}" : "rejected";
        }
        catch (TaskCanceledException)
        {
            return "timed out";
        }
    }
}

public sealed class CounterWorkflow : Workflow<int, int>
{
    public override async Task<int> RunAsync(WorkflowContext context, int n)
    {
        if (n < 3)
        {
            await context.CallActivityAsync<int>(nameof(DoubleActivity), n);
            context.ContinueAsNew(n + 1);
        }

        return n;
    }
}

public sealed class ParentWorkflow : Workflow<int, int>
{
    public override Task<int> RunAsync(WorkflowContext context, int input)
        => context.CallChildWorkflowAsync<int>(nameof(ChainWorkflow), input);
}

/// <summary>Simulates a code change between deployments: the activity it calls first depends on a switch.</summary>
public sealed class DriftingWorkflow : Workflow<object?, string>
{
    public static ConcurrentDictionary<string, bool> UseStepTwo { get; } = new();

    public override async Task<string> RunAsync(WorkflowContext context, object? input)
    {
        var first = UseStepTwo[context.InstanceId] ? nameof(StepTwoActivity) : nameof(StepOneActivity);
        await context.CallActivityAsync(first);
        context.SetCustomStatus("waiting");
        await context.WaitForExternalEventAsync<object?>("go");
        return "done";
    }
}

public sealed class DoubleActivity : WorkflowActivity<int, int>
{
    public override Task<int> RunAsync(WorkflowActivityContext context, int input) => Task.FromResult(input * 2);
}

public sealed class SquareActivity : WorkflowActivity<int, int>
{
    public override Task<int> RunAsync(WorkflowActivityContext context, int input) => Task.FromResult(input * input);
}

public sealed record FlakyInput(string Key, int Failures);

public sealed class FlakyActivity : WorkflowActivity<FlakyInput, string>
{
    private static readonly ConcurrentDictionary<string, int> Attempts = new();

    public override Task<string> RunAsync(WorkflowActivityContext context, FlakyInput input)
    {
        var attempt = Attempts.AddOrUpdate(input.Key, 1, (_, n) => n + 1);
        return attempt <= input.Failures
            ? throw new InvalidOperationException($"failure on attempt {attempt}")
            : Task.FromResult($"succeeded on attempt {attempt}");
    }
}

public sealed class StepOneActivity : WorkflowActivity<object?, object?>
{
    public override Task<object?> RunAsync(WorkflowActivityContext context, object? input) => Task.FromResult<object?>(null);
}

public sealed class StepTwoActivity : WorkflowActivity<object?, object?>
{
    public override Task<object?> RunAsync(WorkflowActivityContext context, object? input) => Task.FromResult<object?>(null);
}
