using System.Net;
using System.Text;
using System.Text.Json;
using Dapr.DurableTask.Protobuf;
using AgentVerse.Runtime.Tests.Sidecar;
using AgentVerse.Testing;

namespace AgentVerse.Runtime.Tests.Workflow;

/// <summary>daprd's workflow HTTP API: shapes, status codes and error codes.</summary>
public sealed class WorkflowHttpApiTests
{
    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response)
    {
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }

    private static async Task<JsonElement> EventuallyStatusAsync(HttpClient http, string instanceId, string status, string version = "v1.0")
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            using var response = await http.GetAsync($"{version}/workflows/dapr/{instanceId}");
            var body = await ReadJsonAsync(response);
            if (body.TryGetProperty("runtimeStatus", out var s) && s.GetString() == status)
            {
                return body;
            }
            Assert.True(DateTime.UtcNow < deadline, $"workflow {instanceId} never reached {status}: {body}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Start_returns_202_with_the_instance_id_and_get_describes_the_finished_workflow()
    {
        await using var run = await WorkflowRun.StartAsync();
        await using var worker = run.Worker().Workflow("Echo", t => [Actions.Complete(0, t.Input)]).Start();

        using var start = await run.Http.PostAsync("v1.0/workflows/dapr/Echo/start?instanceID=order-1", Json("{\"qty\":2}"));
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        Assert.Equal("order-1", (await ReadJsonAsync(start)).GetProperty("instanceID").GetString());

        var body = await EventuallyStatusAsync(run.Http, "order-1", "COMPLETED");
        Assert.Equal("order-1", body.GetProperty("instanceID").GetString());
        Assert.Equal("Echo", body.GetProperty("workflowName").GetString());
        Assert.EndsWith("Z", body.GetProperty("createdAt").GetString(), StringComparison.Ordinal);
        Assert.True(body.GetProperty("lastUpdatedAt").GetDateTimeOffset() >= body.GetProperty("createdAt").GetDateTimeOffset());
        var properties = body.GetProperty("properties");
        Assert.Equal("{\"qty\":2}", properties.GetProperty("dapr.workflow.input").GetString());
        Assert.Equal("{\"qty\":2}", properties.GetProperty("dapr.workflow.output").GetString());
    }

    [Fact]
    public async Task Start_without_an_instance_id_generates_one()
    {
        await using var run = await WorkflowRun.StartAsync();

        using var start = await run.Http.PostAsync("v1.0/workflows/dapr/Echo/start", Json("1"));

        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var id = (await ReadJsonAsync(start)).GetProperty("instanceID").GetString();
        Assert.True(Guid.TryParse(id, out _));
        var body = await EventuallyStatusAsync(run.Http, id!, "PENDING");
        Assert.Equal("Echo", body.GetProperty("workflowName").GetString());
    }

    [Theory]
    [InlineData("bad%20id", "ERR_INSTANCE_ID_INVALID")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "ERR_INSTANCE_ID_TOO_LONG")]
    public async Task Start_rejects_bad_instance_ids_with_400(string instanceId, string errorCode)
    {
        await using var run = await WorkflowRun.StartAsync();

        using var start = await run.Http.PostAsync($"v1.0/workflows/dapr/Echo/start?instanceID={instanceId}", Json("1"));

        Assert.Equal(HttpStatusCode.BadRequest, start.StatusCode);
        Assert.Equal(errorCode, (await ReadJsonAsync(start)).GetProperty("errorCode").GetString());
    }

    [Fact]
    public async Task Starting_a_running_instance_again_is_ERR_START_WORKFLOW()
    {
        await using var run = await WorkflowRun.StartAsync();
        (await run.Http.PostAsync("v1.0/workflows/dapr/Wait/start?instanceID=twice", Json("1"))).Dispose();

        using var again = await run.Http.PostAsync("v1.0/workflows/dapr/Wait/start?instanceID=twice", Json("1"));

        Assert.Equal(HttpStatusCode.InternalServerError, again.StatusCode);
        var error = await ReadJsonAsync(again);
        Assert.Equal("ERR_START_WORKFLOW", error.GetProperty("errorCode").GetString());
        Assert.Contains("already exists", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_instances_are_404_ERR_INSTANCE_ID_NOT_FOUND_for_get_terminate_and_purge()
    {
        await using var run = await WorkflowRun.StartAsync();

        foreach (var response in new[]
        {
            await run.Http.GetAsync("v1.0/workflows/dapr/ghost"),
            await run.Http.PostAsync("v1.0/workflows/dapr/ghost/terminate", null),
            await run.Http.PostAsync("v1.0/workflows/dapr/ghost/purge", null),
        })
        {
            using (response)
            {
                Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
                var error = await ReadJsonAsync(response);
                Assert.Equal("ERR_INSTANCE_ID_NOT_FOUND", error.GetProperty("errorCode").GetString());
                Assert.Equal("unable to find workflow with the provided instance ID: ghost", error.GetProperty("message").GetString());
            }
        }
        using var raise = await run.Http.PostAsync("v1.0/workflows/dapr/ghost/raiseEvent/go", Json("1"));
        Assert.Equal(HttpStatusCode.InternalServerError, raise.StatusCode);
        Assert.Equal("ERR_RAISE_EVENT_WORKFLOW", (await ReadJsonAsync(raise)).GetProperty("errorCode").GetString());
    }

    [Fact]
    public async Task Raise_event_pause_resume_terminate_and_purge_answer_202()
    {
        await using var run = await WorkflowRun.StartAsync();
        await using var worker = run.Worker()
            .Workflow("Wait", t => t.Event("go") is { } go ? [Actions.Complete(0, go.Input)] : [])
            .Start();
        (await run.Http.PostAsync("v1.0/workflows/dapr/Wait/start?instanceID=w1", Json("1"))).Dispose();
        (await run.Http.PostAsync("v1.0/workflows/dapr/Wait/start?instanceID=w2", Json("1"))).Dispose();
        await EventuallyStatusAsync(run.Http, "w1", "RUNNING");

        using (var pause = await run.Http.PostAsync("v1.0/workflows/dapr/w1/pause", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, pause.StatusCode);
        }
        await EventuallyStatusAsync(run.Http, "w1", "SUSPENDED");
        using (var resume = await run.Http.PostAsync("v1.0-beta1/workflows/dapr/w1/resume", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, resume.StatusCode);
        }
        await EventuallyStatusAsync(run.Http, "w1", "RUNNING");
        using (var raise = await run.Http.PostAsync("v1.0/workflows/dapr/w1/raiseEvent/go", Json("\"went\"")))
        {
            Assert.Equal(HttpStatusCode.Accepted, raise.StatusCode);
        }
        var done = await EventuallyStatusAsync(run.Http, "w1", "COMPLETED", "v1.0-alpha1");
        Assert.Equal("\"went\"", done.GetProperty("properties").GetProperty("dapr.workflow.output").GetString());

        await EventuallyStatusAsync(run.Http, "w2", "RUNNING");
        using (var running = await run.Http.PostAsync("v1.0/workflows/dapr/w2/purge", null))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, running.StatusCode);
            Assert.Equal("ERR_PURGE_WORKFLOW", (await ReadJsonAsync(running)).GetProperty("errorCode").GetString());
        }
        using (var terminate = await run.Http.PostAsync("v1.0/workflows/dapr/w2/terminate", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, terminate.StatusCode);
        }
        await EventuallyStatusAsync(run.Http, "w2", "TERMINATED");
        using (var purge = await run.Http.PostAsync("v1.0/workflows/dapr/w2/purge", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, purge.StatusCode);
        }
        using var gone = await run.Http.GetAsync("v1.0/workflows/dapr/w2");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task A_failed_workflow_exposes_its_failure_in_properties()
    {
        await using var run = await WorkflowRun.StartAsync();
        await using var worker = run.Worker().Workflow("Bad", IEnumerable<WorkflowAction> (_) => throw new InvalidOperationException("no stock")).Start();

        (await run.Http.PostAsync("v1.0/workflows/dapr/Bad/start?instanceID=bad-1", Json("1"))).Dispose();
        var body = await EventuallyStatusAsync(run.Http, "bad-1", "FAILED");

        var properties = body.GetProperty("properties");
        Assert.Equal("System.InvalidOperationException", properties.GetProperty("dapr.workflow.failure.error_type").GetString());
        Assert.Equal("no stock", properties.GetProperty("dapr.workflow.failure.error_message").GetString());
    }

    [Fact]
    public async Task Without_an_actor_state_store_the_workflow_API_is_ERR_ACTOR_RUNTIME_NOT_FOUND()
    {
        await using var run = await WorkflowRun.StartAsync(resources: ComponentYaml.InMemoryState);

        using var start = await run.Http.PostAsync("v1.0/workflows/dapr/Echo/start", Json("1"));

        Assert.Equal(HttpStatusCode.InternalServerError, start.StatusCode);
        var error = await ReadJsonAsync(start);
        Assert.Equal("ERR_ACTOR_RUNTIME_NOT_FOUND", error.GetProperty("errorCode").GetString());
        Assert.Contains("actorStateStore", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metadata_counts_connected_workflow_workers()
    {
        await using var run = await WorkflowRun.StartAsync();
        await using var worker = run.Worker().Start();
        await TestApp.EventuallyAsync(() => run.Runtime.Find(WorkflowRun.AppId)!.Workflows.Dispatcher.ConnectedWorkers == 1);

        using var metadata = await run.Http.GetAsync("v1.0/metadata");

        Assert.Equal(1, (await ReadJsonAsync(metadata)).GetProperty("workflows").GetProperty("connectedWorkers").GetInt32());
    }

    [Fact]
    public async Task Custom_status_set_by_the_workflow_shows_over_gRPC_and_HTTP()
    {
        await using var run = await WorkflowRun.StartAsync();
        await using var worker = run.Worker().Workflow("Busy", t =>
        {
            t.CustomStatus = "\"halfway\"";
            return [];
        }).Start();

        (await run.Http.PostAsync("v1.0/workflows/dapr/Busy/start?instanceID=busy-1", Json("1"))).Dispose();
        var body = await EventuallyStatusAsync(run.Http, "busy-1", "RUNNING");

        Assert.Equal("\"halfway\"", body.GetProperty("properties").GetProperty("dapr.workflow.custom_status").GetString());
        Assert.Equal("\"halfway\"", (await run.GetAsync("busy-1")).WorkflowState.CustomStatus);
    }
}
