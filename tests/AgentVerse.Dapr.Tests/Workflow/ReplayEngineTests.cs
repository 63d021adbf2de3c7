using Microsoft.Extensions.Logging;
using AgentVerse.Dapr.Workflow;
using AgentVerse.Dapr.Workflow.Protocol;
using static AgentVerse.Dapr.Tests.Workflow.History;
using ActionType = AgentVerse.Dapr.Workflow.Protocol.OrchestratorAction.OrchestratorActionTypeOneofCase;

namespace AgentVerse.Dapr.Tests.Workflow;

public sealed class ReplayEngineTests
{
    private static readonly DateTime T1 = T0.AddSeconds(1);
    private static readonly DateTime T2 = T0.AddSeconds(2);
    private static readonly DateTime T3 = T0.AddSeconds(3);

    // ------------------------------------------------------------------ chain

    private static ReplayHarness Chain() => new(o => o.RegisterWorkflow<string, string>("Chain", async (ctx, input) =>
    {
        var a = await ctx.CallActivityAsync<string>("A", input);
        var b = await ctx.CallActivityAsync<string>("B", a);
        return await ctx.CallActivityAsync<string>("C", b);
    }));

    [Fact]
    public void First_step_of_a_chain_schedules_only_the_first_activity_with_sequence_number_0()
    {
        var response = Chain().Run([], [Started(T0), ExecutionStarted("Chain", "\"x\"")], "tok");

        var action = Assert.Single(response.Actions);
        Assert.Equal(0, action.Id);
        Assert.Equal("A", action.ScheduleTask.Name);
        Assert.Equal("\"x\"", action.ScheduleTask.Input);
        Assert.False(string.IsNullOrEmpty(action.ScheduleTask.TaskExecutionId));
        Assert.Equal("wf-1", response.InstanceId);
        Assert.Equal("tok", response.CompletionToken);
    }

    [Fact]
    public void Replaying_a_chain_returns_only_the_new_action()
    {
        var response = Chain().Run(
            [Started(T0), ExecutionStarted("Chain", "\"x\""), TaskScheduled(0, "A", "\"x\"")],
            [Started(T1), TaskCompleted(0, "\"a-out\"")]);

        var action = Assert.Single(response.Actions);
        Assert.Equal(1, action.Id);
        Assert.Equal("B", action.ScheduleTask.Name);
        Assert.Equal("\"a-out\"", action.ScheduleTask.Input);
    }

    [Fact]
    public void Last_step_of_a_chain_completes_the_workflow_with_the_serialized_result()
    {
        var response = Chain().Run(
            [
                Started(T0), ExecutionStarted("Chain", "\"x\""), TaskScheduled(0, "A"),
                Started(T1), TaskCompleted(0, "\"a\""), TaskScheduled(1, "B"),
                Started(T2), TaskCompleted(1, "\"b\""), TaskScheduled(2, "C"),
            ],
            [Started(T3), TaskCompleted(2, "\"done\"")]);

        var action = Assert.Single(response.Actions);
        Assert.Equal(3, action.Id);
        Assert.Equal(OrchestrationStatus.Completed, action.CompleteOrchestration.OrchestrationStatus);
        Assert.Equal("\"done\"", action.CompleteOrchestration.Result);
    }

    [Fact]
    public void A_step_with_no_new_completion_returns_no_actions()
    {
        var response = Chain().Run(
            [Started(T0), ExecutionStarted("Chain", "\"x\""), TaskScheduled(0, "A")],
            [Started(T1)]);

        Assert.Empty(response.Actions);
    }

    // ------------------------------------------------------------------ fan-out / fan-in

    private static ReplayHarness FanOut() => new(o => o.RegisterWorkflow<int, int>("FanOut", async (ctx, count) =>
    {
        var tasks = Enumerable.Range(0, count).Select(i => ctx.CallActivityAsync<int>("Square", i)).ToList();
        var results = await Task.WhenAll(tasks);
        return results.Sum();
    }));

    [Fact]
    public void Fan_out_of_50_schedules_50_activities_in_one_step()
    {
        var response = FanOut().Run([], [Started(T0), ExecutionStarted("FanOut", "50")]);

        Assert.Equal(50, response.Actions.Count);
        Assert.Equal(Enumerable.Range(0, 50), response.Actions.Select(a => a.Id));
        Assert.All(response.Actions, a => Assert.Equal("Square", a.ScheduleTask.Name));
        Assert.Equal(Enumerable.Range(0, 50).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), response.Actions.Select(a => a.ScheduleTask.Input));
    }

    [Fact]
    public void Fan_in_completes_once_all_50_results_arrive_in_any_order()
    {
        var past = new List<HistoryEvent> { Started(T0), ExecutionStarted("FanOut", "50") };
        past.AddRange(Enumerable.Range(0, 50).Select(i => TaskScheduled(i, "Square")));
        var @new = new List<HistoryEvent> { Started(T1) };
        @new.AddRange(Enumerable.Range(0, 50).Reverse().Select(i => TaskCompleted(i, (i * i).ToString(System.Globalization.CultureInfo.InvariantCulture))));

        var response = FanOut().Run(past, @new);

        var completion = ReplayHarness.Completion(response);
        Assert.Equal(OrchestrationStatus.Completed, completion.OrchestrationStatus);
        Assert.Equal(Enumerable.Range(0, 50).Sum(i => i * i).ToString(System.Globalization.CultureInfo.InvariantCulture), completion.Result);
        Assert.Single(response.Actions);
    }

    [Fact]
    public void Fan_in_with_some_results_missing_returns_no_actions()
    {
        var past = new List<HistoryEvent> { Started(T0), ExecutionStarted("FanOut", "50") };
        past.AddRange(Enumerable.Range(0, 50).Select(i => TaskScheduled(i, "Square")));

        var response = FanOut().Run(past, [Started(T1), TaskCompleted(3, "9"), TaskCompleted(7, "49")]);

        Assert.Empty(response.Actions);
    }

    // ------------------------------------------------------------------ timers and time

    private static ReplayHarness Timer() => new(o => o.RegisterWorkflow<object?, string>("Timer", async (ctx, _) =>
    {
        var before = ctx.CurrentUtcDateTime;
        await ctx.CreateTimer(TimeSpan.FromMinutes(5));
        return $"{before:O}|{ctx.CurrentUtcDateTime:O}";
    }));

    [Fact]
    public void A_timer_fires_at_the_step_start_time_plus_the_delay()
    {
        var response = Timer().Run([], [Started(T0), ExecutionStarted("Timer")]);

        var action = Assert.Single(response.Actions);
        Assert.Equal(0, action.Id);
        Assert.Equal(T0.AddMinutes(5), action.CreateTimer.FireAt.ToDateTime());
        Assert.Equal(CreateTimerAction.OriginOneofCase.CreateTimer, action.CreateTimer.OriginCase);
    }

    [Fact]
    public void A_fired_timer_resumes_the_workflow_and_current_time_follows_orchestrator_started()
    {
        var fired = T0.AddMinutes(5).AddSeconds(1);
        var response = Timer().Run(
            [Started(T0), ExecutionStarted("Timer"), TimerCreated(0, T0.AddMinutes(5))],
            [Started(fired), TimerFired(0, T0.AddMinutes(5))]);

        var completion = ReplayHarness.Completion(response);
        Assert.Equal($"\"{T0:O}|{fired:O}\"", completion.Result);
    }

    [Fact]
    public void IsReplaying_is_true_for_past_events_and_false_for_new_ones()
    {
        var harness = new ReplayHarness(o => o.RegisterWorkflow<object?, string>("Replaying", async (ctx, _) =>
        {
            var first = ctx.IsReplaying;
            await ctx.CallActivityAsync("A");
            var second = ctx.IsReplaying;
            await ctx.CallActivityAsync("B");
            return $"{first}|{second}|{ctx.IsReplaying}";
        }));

        var response = harness.Run(
            [Started(T0), ExecutionStarted("Replaying"), TaskScheduled(0, "A"), Started(T1), TaskCompleted(0, null), TaskScheduled(1, "B")],
            [Started(T2), TaskCompleted(1, null)]);

        Assert.Equal("\"True|True|False\"", ReplayHarness.Completion(response).Result);
    }

    [Fact]
    public void NewGuid_is_the_same_on_every_replay_and_differs_between_calls()
    {
        var harness = new ReplayHarness(o => o.RegisterWorkflow<object?, string>("Guids", async (ctx, _) =>
        {
            var a = ctx.NewGuid();
            var b = ctx.NewGuid();
            await ctx.CallActivityAsync("A");
            return $"{a}|{b}";
        }));

        var first = harness.Run([Started(T0), ExecutionStarted("Guids"), TaskScheduled(0, "A")], [Started(T1), TaskCompleted(0, null)]);
        var second = harness.Run([Started(T0), ExecutionStarted("Guids"), TaskScheduled(0, "A")], [Started(T1), TaskCompleted(0, null)]);

        var result = ReplayHarness.Completion(first).Result;
        Assert.Equal(result, ReplayHarness.Completion(second).Result);
        var parts = result.Trim('"').Split('|');
        Assert.NotEqual(parts[0], parts[1]);
    }

    // ------------------------------------------------------------------ external events

    private static ReplayHarness Approval() => new(o => o.RegisterWorkflow<object?, string>("Approval", async (ctx, _) =>
        await ctx.WaitForExternalEventAsync<string>("approve")));

    [Fact]
    public void Waiting_for_an_event_without_timeout_schedules_nothing()
    {
        var response = Approval().Run([], [Started(T0), ExecutionStarted("Approval")]);

        Assert.Empty(response.Actions);
    }

    [Fact]
    public void A_raised_event_completes_the_wait_with_its_payload_and_names_match_case_insensitively()
    {
        var response = Approval().Run([Started(T0), ExecutionStarted("Approval")], [Started(T1), EventRaised("APPROVE", "\"yes\"")]);

        Assert.Equal("\"yes\"", ReplayHarness.Completion(response).Result);
    }

    [Fact]
    public void An_event_raised_before_the_wait_is_buffered_until_the_code_asks_for_it()
    {
        var harness = new ReplayHarness(o => o.RegisterWorkflow<object?, string>("Buffered", async (ctx, _) =>
        {
            await ctx.CallActivityAsync("A");
            var first = await ctx.WaitForExternalEventAsync<string>("e");
            var second = await ctx.WaitForExternalEventAsync<string>("e");
            return first + second;
        }));

        var response = harness.Run(
            [Started(T0), ExecutionStarted("Buffered"), TaskScheduled(0, "A")],
            [Started(T1), EventRaised("e", "\"1\""), EventRaised("e", "\"2\""), TaskCompleted(0, null)]);

        Assert.Equal("\"12\"", ReplayHarness.Completion(response).Result);
    }

    private static ReplayHarness ApprovalWithTimeout() => new(o => o.RegisterWorkflow<object?, string>("Timeout", async (ctx, _) =>
    {
        try
        {
            return await ctx.WaitForExternalEventAsync<string>("approve", TimeSpan.FromMinutes(10));
        }
        catch (TaskCanceledException)
        {
            return "timed out";
        }
    }));

    [Fact]
    public void Waiting_with_a_timeout_schedules_a_timer_tagged_with_the_event_name()
    {
        var response = ApprovalWithTimeout().Run([], [Started(T0), ExecutionStarted("Timeout")]);

        var action = Assert.Single(response.Actions);
        Assert.Equal(T0.AddMinutes(10), action.CreateTimer.FireAt.ToDateTime());
        Assert.Equal("approve", action.CreateTimer.ExternalEvent.Name);
    }

    [Fact]
    public void The_event_arriving_before_the_timeout_wins()
    {
        var response = ApprovalWithTimeout().Run(
            [Started(T0), ExecutionStarted("Timeout"), TimerCreated(0, T0.AddMinutes(10))],
            [Started(T1), EventRaised("approve", "\"ok\"")]);

        var action = Assert.Single(response.Actions);
        Assert.Equal("\"ok\"", action.CompleteOrchestration.Result);
    }

    [Fact]
    public void The_timeout_firing_first_throws_TaskCanceledException_in_the_workflow()
    {
        var response = ApprovalWithTimeout().Run(
            [Started(T0), ExecutionStarted("Timeout"), TimerCreated(0, T0.AddMinutes(10))],
            [Started(T0.AddMinutes(10)), TimerFired(0, T0.AddMinutes(10)), EventRaised("approve", "\"late\"")]);

        Assert.Equal("\"timed out\"", ReplayHarness.Completion(response).Result);
    }

    [Fact]
    public void An_event_already_buffered_is_returned_without_scheduling_a_timeout_timer()
    {
        var harness = new ReplayHarness(o => o.RegisterWorkflow<object?, string>("BufferedTimeout", async (ctx, _) =>
        {
            await ctx.CallActivityAsync("A");
            return await ctx.WaitForExternalEventAsync<string>("e", TimeSpan.FromMinutes(1));
        }));

        var response = harness.Run(
            [Started(T0), ExecutionStarted("BufferedTimeout"), TaskScheduled(0, "A")],
            [Started(T1), EventRaised("e", "\"early\""), TaskCompleted(0, null)]);

        var action = Assert.Single(response.Actions);
        Assert.Equal("\"early\"", action.CompleteOrchestration.Result);
    }

    // ------------------------------------------------------------------ failures and retries

    private static readonly WorkflowRetryPolicy Retry = new(maxNumberOfAttempts: 3, firstRetryInterval: TimeSpan.FromSeconds(10), backoffCoefficient: 2);

    private static ReplayHarness Retrying() => new(o => o.RegisterWorkflow<object?, string>("Retrying", async (ctx, _) =>
        await ctx.CallActivityAsync<string>("Flaky", "in", new WorkflowTaskOptions { RetryPolicy = Retry })));

    [Fact]
    public void A_failed_attempt_with_a_retry_policy_schedules_a_durable_retry_timer()
    {
        var response = Retrying().Run(
            [Started(T0), ExecutionStarted("Retrying"), TaskScheduled(0, "Flaky")],
            [Started(T1), TaskFailed(0, "System.InvalidOperationException", "boom")]);

        var action = Assert.Single(response.Actions);
        Assert.Equal(1, action.Id);
        Assert.Equal(T1.AddSeconds(10), action.CreateTimer.FireAt.ToDateTime());
        Assert.Equal(CreateTimerAction.OriginOneofCase.ActivityRetry, action.CreateTimer.OriginCase);
    }

    [Fact]
    public void The_retry_timer_firing_reschedules_the_activity_with_the_same_execution_id()
    {
        var first = Retrying().Run([], [Started(T0), ExecutionStarted("Retrying")]);
        var response = Retrying().Run(
            [
                Started(T0), ExecutionStarted("Retrying"), TaskScheduled(0, "Flaky"),
                Started(T1), TaskFailed(0, "System.InvalidOperationException", "boom"), TimerCreated(1, T1.AddSeconds(10)),
            ],
            [Started(T1.AddSeconds(10)), TimerFired(1, T1.AddSeconds(10))]);

        var action = Assert.Single(response.Actions);
        Assert.Equal(2, action.Id);
        Assert.Equal("Flaky", action.ScheduleTask.Name);
        Assert.Equal("\"in\"", action.ScheduleTask.Input);
        Assert.Equal(first.Actions[0].ScheduleTask.TaskExecutionId, action.ScheduleTask.TaskExecutionId);
    }

    [Fact]
    public void The_second_retry_waits_longer_by_the_backoff_coefficient()
    {
        var t4 = T1.AddSeconds(11);
        var response = Retrying().Run(
            [
                Started(T0), ExecutionStarted("Retrying"), TaskScheduled(0, "Flaky"),
                Started(T1), TaskFailed(0, "E", "boom"), TimerCreated(1, T1.AddSeconds(10)),
                Started(T1.AddSeconds(10)), TimerFired(1, T1.AddSeconds(10)), TaskScheduled(2, "Flaky"),
            ],
            [Started(t4), TaskFailed(2, "E", "boom again")]);

        var action = Assert.Single(response.Actions);
        Assert.Equal(t4.AddSeconds(20), action.CreateTimer.FireAt.ToDateTime());
    }

    [Fact]
    public void When_attempts_are_exhausted_the_workflow_fails_with_the_activity_failure()
    {
        var response = Retrying().Run(
            [
                Started(T0), ExecutionStarted("Retrying"), TaskScheduled(0, "Flaky"),
                Started(T1), TaskFailed(0, "E", "boom"), TimerCreated(1, T1),
                Started(T1), TimerFired(1, T1), TaskScheduled(2, "Flaky"),
                Started(T2), TaskFailed(2, "E", "boom"), TimerCreated(3, T2),
                Started(T2), TimerFired(3, T2), TaskScheduled(4, "Flaky"),
            ],
            [Started(T3), TaskFailed(4, "E", "final boom")]);

        var completion = ReplayHarness.Completion(response);
        Assert.Equal(OrchestrationStatus.Failed, completion.OrchestrationStatus);
        Assert.Equal(typeof(WorkflowTaskFailedException).FullName, completion.FailureDetails.ErrorType);
        Assert.Contains("final boom", completion.FailureDetails.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal("E", completion.FailureDetails.InnerFailure.ErrorType);
    }

    [Fact]
    public void A_failed_activity_the_workflow_catches_can_be_inspected_and_handled()
    {
        var harness = new ReplayHarness(o => o.RegisterWorkflow<object?, string>("Catches", async (ctx, _) =>
        {
            try
            {
                await ctx.CallActivityAsync("A");
                return "no";
            }
            catch (WorkflowTaskFailedException ex) when (ex.FailureDetails.IsCausedBy<InvalidOperationException>())
            {
                return ex.FailureDetails.ErrorMessage;
            }
        }));

        var response = harness.Run(
            [Started(T0), ExecutionStarted("Catches"), TaskScheduled(0, "A")],
            [Started(T1), TaskFailed(0, typeof(InvalidOperationException).FullName!, "handled")]);

        Assert.Equal("\"handled\"", ReplayHarness.Completion(response).Result);
    }

    [Fact]
    public void An_exception_in_workflow_code_fails_the_workflow_with_its_type_and_message()
    {
        var harness = new ReplayHarness(o => o.RegisterWorkflow<object?, string>("Throws", (_, _) =>
            throw new InvalidOperationException("bad input")));

        var completion = ReplayHarness.Completion(harness.Run([], [Started(T0), ExecutionStarted("Throws")]));

        Assert.Equal(OrchestrationStatus.Failed, completion.OrchestrationStatus);
        Assert.Equal(typeof(InvalidOperationException).FullName, completion.FailureDetails.ErrorType);
        Assert.Equal("bad input", completion.FailureDetails.ErrorMessage);
    }

    [Fact]
    public void An_unregistered_workflow_fails_with_a_clear_message()
    {
        var completion = ReplayHarness.Completion(Chain().Run([], [Started(T0), ExecutionStarted("Missing")]));

        Assert.Equal(OrchestrationStatus.Failed, completion.OrchestrationStatus);
        Assert.Contains("'Missing'", completion.FailureDetails.ErrorMessage, StringComparison.Ordinal);
    }

    // ------------------------------------------------------------------ ContinueAsNew, status, suspend, terminate

    private static ReplayHarness Counter() => new(o => o.RegisterWorkflow<int, int>("Counter", async (ctx, n) =>
    {
        ctx.SetCustomStatus(new { n });
        if (n < 3)
        {
            await ctx.CallActivityAsync("Tick", n);
            ctx.ContinueAsNew(n + 1);
        }

        return n;
    }));

    [Fact]
    public void ContinueAsNew_completes_with_the_new_input_and_carries_over_unprocessed_events()
    {
        var response = Counter().Run(
            [Started(T0), ExecutionStarted("Counter", "1"), TaskScheduled(0, "Tick")],
            [Started(T1), EventRaised("later", "\"x\""), TaskCompleted(0, null), EventRaised("after", "\"y\"")]);

        var action = Assert.Single(response.Actions);
        Assert.Equal(OrchestrationStatus.ContinuedAsNew, action.CompleteOrchestration.OrchestrationStatus);
        Assert.Equal("2", action.CompleteOrchestration.Result);
        Assert.Equal(["later", "after"], action.CompleteOrchestration.CarryoverEvents.Select(e => e.EventRaised.Name));
        Assert.Equal("{\"n\":1}", response.CustomStatus);
    }

    [Fact]
    public void ContinueAsNew_without_preserving_events_drops_them()
    {
        var harness = new ReplayHarness(o => o.RegisterWorkflow<int, int>("Drop", (ctx, n) =>
        {
            ctx.ContinueAsNew(n + 1, preserveUnprocessedEvents: false);
            return Task.FromResult(n);
        }));

        var action = Assert.Single(harness.Run([], [Started(T0), ExecutionStarted("Drop", "1"), EventRaised("e", null)]).Actions);

        Assert.Equal(OrchestrationStatus.ContinuedAsNew, action.CompleteOrchestration.OrchestrationStatus);
        Assert.Empty(action.CompleteOrchestration.CarryoverEvents);
    }

    [Fact]
    public void Events_while_suspended_are_held_until_resume()
    {
        var past = new List<HistoryEvent> { Started(T0), ExecutionStarted("Chain", "\"x\""), TaskScheduled(0, "A") };

        var suspended = Chain().Run(past, [Started(T1), Suspended(), TaskCompleted(0, "\"a\"")]);
        Assert.Empty(suspended.Actions);

        var resumed = Chain().Run([.. past, Started(T1), Suspended(), TaskCompleted(0, "\"a\"")], [Started(T2), Resumed()]);
        var action = Assert.Single(resumed.Actions);
        Assert.Equal("B", action.ScheduleTask.Name);
    }

    [Fact]
    public void Terminate_completes_the_workflow_as_terminated_with_the_given_output_and_drops_pending_actions()
    {
        var response = FanOut().Run([], [Started(T0), ExecutionStarted("FanOut", "3"), Terminated("\"stopped\"")]);

        var action = Assert.Single(response.Actions);
        Assert.Equal(OrchestrationStatus.Terminated, action.CompleteOrchestration.OrchestrationStatus);
        Assert.Equal("\"stopped\"", action.CompleteOrchestration.Result);
    }

    [Fact]
    public void A_child_workflow_gets_a_deterministic_instance_id_and_its_result_flows_back()
    {
        var harness = new ReplayHarness(o => o.RegisterWorkflow<object?, string>("Parent", async (ctx, _) =>
            await ctx.CallChildWorkflowAsync<string>("Child", 7)));

        var first = Assert.Single(harness.Run([], [Started(T0), ExecutionStarted("Parent")]).Actions);
        Assert.Equal("Child", first.CreateSubOrchestration.Name);
        Assert.Equal("wf-1:0000", first.CreateSubOrchestration.InstanceId);
        Assert.Equal("7", first.CreateSubOrchestration.Input);

        var done = harness.Run(
            [Started(T0), ExecutionStarted("Parent"), SubOrchestrationCreated(0, "Child", "wf-1:0000")],
            [Started(T1), SubOrchestrationCompleted(0, "\"child says hi\"")]);
        Assert.Equal("\"child says hi\"", ReplayHarness.Completion(done).Result);
    }

    // ------------------------------------------------------------------ non-determinism

    [Fact]
    public void Replaying_code_that_calls_a_different_activity_fails_with_a_message_naming_both()
    {
        var response = Chain().Run(
            [Started(T0), ExecutionStarted("Chain", "\"x\""), TaskScheduled(0, "SomethingElse")],
            [Started(T1), TaskCompleted(0, "\"a\"")]);

        var action = Assert.Single(response.Actions);
        var failure = action.CompleteOrchestration.FailureDetails;
        Assert.Equal(OrchestrationStatus.Failed, action.CompleteOrchestration.OrchestrationStatus);
        Assert.Equal("NonDeterministicWorkflowException", failure.ErrorType);
        Assert.Contains("called activity 'SomethingElse' with sequence number 0", failure.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("the replayed code called activity 'A'", failure.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Replaying_code_that_creates_a_timer_where_history_has_an_activity_is_non_deterministic()
    {
        var response = Timer().Run([Started(T0), ExecutionStarted("Timer"), TaskScheduled(0, "A")], [Started(T1)]);

        var failure = ReplayHarness.Completion(response).FailureDetails;
        Assert.Equal("NonDeterministicWorkflowException", failure.ErrorType);
        Assert.Contains("called activity 'A'", failure.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("created a timer", failure.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void History_holding_an_action_the_code_no_longer_takes_is_non_deterministic()
    {
        var response = Approval().Run([Started(T0), ExecutionStarted("Approval"), TaskScheduled(0, "A")], [Started(T1)]);

        var action = Assert.Single(response.Actions);
        var failure = action.CompleteOrchestration.FailureDetails;
        Assert.Equal("NonDeterministicWorkflowException", failure.ErrorType);
        Assert.Contains("did not schedule any action with that sequence number", failure.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("'A'", failure.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Code_that_now_returns_early_while_history_holds_later_actions_is_non_deterministic()
    {
        var harness = new ReplayHarness(o => o.RegisterWorkflow<object?, string>("Shortened", async (ctx, _) =>
        {
            await ctx.CallActivityAsync("A");
            return "done early";
        }));

        var response = harness.Run(
            [Started(T0), ExecutionStarted("Shortened"), TaskScheduled(0, "A"), Started(T1), TaskCompleted(0, null), TaskScheduled(1, "B")],
            [Started(T2), TaskCompleted(1, null)]);

        var action = Assert.Single(response.Actions);
        Assert.Equal(OrchestrationStatus.Failed, action.CompleteOrchestration.OrchestrationStatus);
        Assert.Equal("NonDeterministicWorkflowException", action.CompleteOrchestration.FailureDetails.ErrorType);
        Assert.Contains("called activity 'B' with sequence number 1", action.CompleteOrchestration.FailureDetails.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Fire_and_forget_activities_scheduled_before_returning_are_sent_with_the_completion()
    {
        var harness = new ReplayHarness(o => o.RegisterWorkflow<object?, string>("FireAndForget", (ctx, _) =>
        {
            _ = ctx.CallActivityAsync("Notify");
            return Task.FromResult("done");
        }));

        var response = harness.Run([], [Started(T0), ExecutionStarted("FireAndForget")]);

        Assert.Equal(2, response.Actions.Count);
        Assert.Equal("Notify", response.Actions[0].ScheduleTask.Name);
        Assert.Equal(OrchestrationStatus.Completed, response.Actions[1].CompleteOrchestration.OrchestrationStatus);
        Assert.Equal(1, response.Actions[1].Id);
    }

    [Fact]
    public void The_replay_safe_logger_writes_only_for_code_that_runs_for_the_first_time()
    {
        var logs = new RecordingLoggerProvider();
        using var factory = Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.AddProvider(logs));
        var harness = new ReplayHarness(
            o => o.RegisterWorkflow<object?, string>("Logs", async (ctx, _) =>
            {
                var logger = ctx.CreateReplaySafeLogger("Logs");
                Microsoft.Extensions.Logging.LoggerExtensions.LogInformation(logger, "before");
                await ctx.CallActivityAsync("A");
                Microsoft.Extensions.Logging.LoggerExtensions.LogInformation(logger, "after");
                return "done";
            }),
            factory);

        harness.Run([Started(T0), ExecutionStarted("Logs"), TaskScheduled(0, "A")], [Started(T1), TaskCompleted(0, null)]);

        Assert.Equal(["after"], logs.Messages);
    }

    private sealed class RecordingLoggerProvider : Microsoft.Extensions.Logging.ILoggerProvider, Microsoft.Extensions.Logging.ILogger
    {
        public List<string> Messages { get; } = [];

        public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
            => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => Messages.Add(formatter(state, exception));

        public void Dispose()
        {
        }
    }
}
