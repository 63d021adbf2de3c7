using System.Collections.Concurrent;
using System.Threading.Channels;
using AgentVerse.Dapr.Workflow;
using AgentVerse.Dapr.Workflow.Grpc;
using AgentVerse.Dapr.Workflow.Protocol;
using Google.Protobuf.WellKnownTypes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using static AgentVerse.Dapr.Tests.Workflow.History;

namespace AgentVerse.Dapr.Tests.Workflow;

/// <summary>The worker hosted service against a fake sidecar that scripts the GetWorkItems stream.</summary>
public sealed class WorkflowWorkerTests : IAsyncLifetime
{
    private const string Service = "/TaskHubSidecarService/";

    private readonly Channel<WorkItem> _workItems = Channel.CreateUnbounded<WorkItem>();
    private readonly Channel<OrchestratorResponse> _orchestratorResponses = Channel.CreateUnbounded<OrchestratorResponse>();
    private readonly Channel<ActivityResponse> _activityResponses = Channel.CreateUnbounded<ActivityResponse>();
    private readonly ConcurrentQueue<string> _apiTokens = new();
    private int _streamsOpened;
    private volatile bool _dropNextStream;
    private GrpcTestServer _sidecar = null!;
    private IHost _host = null!;

    public async Task InitializeAsync()
    {
        _sidecar = await GrpcTestServer.StartAsync(app =>
        {
            app.MapPost(Service + "Hello", async context =>
            {
                _apiTokens.Enqueue(context.Request.Headers["dapr-api-token"].ToString());
                await GrpcTestServer.ReadRequestAsync(context, Empty.Parser);
                GrpcTestServer.StartResponse(context);
                await GrpcTestServer.WriteAsync(context, new Empty());
                GrpcTestServer.EndWithStatus(context, GrpcStatusCode.OK);
            });
            app.MapPost(Service + "GetWorkItems", async context =>
            {
                Interlocked.Increment(ref _streamsOpened);
                await GrpcTestServer.ReadRequestAsync(context, GetWorkItemsRequest.Parser);
                GrpcTestServer.StartResponse(context);
                await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
                try
                {
                    while (!_dropNextStream)
                    {
                        using var poll = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
                        poll.CancelAfter(TimeSpan.FromMilliseconds(100));
                        try
                        {
                            var item = await _workItems.Reader.ReadAsync(poll.Token);
                            await GrpcTestServer.WriteAsync(context, item);
                        }
                        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
                        {
                        }
                    }

                    _dropNextStream = false;
                    GrpcTestServer.EndWithStatus(context, GrpcStatusCode.Unavailable, "sidecar shutting down");
                }
                catch (OperationCanceledException)
                {
                }
            });
            app.MapPost(Service + "CompleteOrchestratorTask", async context =>
            {
                await _orchestratorResponses.Writer.WriteAsync(await GrpcTestServer.ReadRequestAsync(context, OrchestratorResponse.Parser));
                GrpcTestServer.StartResponse(context);
                await GrpcTestServer.WriteAsync(context, new CompleteTaskResponse());
                GrpcTestServer.EndWithStatus(context, GrpcStatusCode.OK);
            });
            app.MapPost(Service + "CompleteActivityTask", async context =>
            {
                await _activityResponses.Writer.WriteAsync(await GrpcTestServer.ReadRequestAsync(context, ActivityResponse.Parser));
                GrpcTestServer.StartResponse(context);
                await GrpcTestServer.WriteAsync(context, new CompleteTaskResponse());
                GrpcTestServer.EndWithStatus(context, GrpcStatusCode.OK);
            });
        });

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<Greeting>();
        builder.Services.AddDaprWorkflow(o =>
        {
            o.GrpcEndpoint = _sidecar.Address;
            o.ApiToken = "worker-token";
            o.MaxReconnectDelay = TimeSpan.FromMilliseconds(200);
            o.RegisterWorkflow<GreetingWorkflow>();
            o.RegisterActivity<GreetActivity>();
            o.RegisterActivity<FailingActivity>();
        });
        _host = builder.Build();
        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        await _sidecar.DisposeAsync();
    }

    [Fact]
    public async Task An_activity_work_item_runs_the_activity_with_DI_and_reports_the_result_with_the_token()
    {
        await _workItems.Writer.WriteAsync(new WorkItem
        {
            CompletionToken = "act-token",
            ActivityRequest = new ActivityRequest
            {
                Name = nameof(GreetActivity),
                Input = "\"Ada\"",
                TaskId = 4,
                OrchestrationInstance = new OrchestrationInstance { InstanceId = "wf-9" },
            },
        });

        var response = await _activityResponses.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal("wf-9", response.InstanceId);
        Assert.Equal(4, response.TaskId);
        Assert.Equal("act-token", response.CompletionToken);
        Assert.Equal("\"Hello, Ada!\"", response.Result);
        Assert.Null(response.FailureDetails);
        Assert.Contains("worker-token", _apiTokens);
    }

    [Fact]
    public async Task A_throwing_activity_is_reported_with_failure_details()
    {
        await _workItems.Writer.WriteAsync(new WorkItem
        {
            ActivityRequest = new ActivityRequest { Name = nameof(FailingActivity), TaskId = 1, OrchestrationInstance = new OrchestrationInstance { InstanceId = "wf-x" } },
        });

        var response = await _activityResponses.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Null(response.Result);
        Assert.Equal(typeof(InvalidOperationException).FullName, response.FailureDetails.ErrorType);
        Assert.Equal("nope", response.FailureDetails.ErrorMessage);
    }

    [Fact]
    public async Task An_unknown_activity_is_reported_as_a_failure_instead_of_hanging()
    {
        await _workItems.Writer.WriteAsync(new WorkItem
        {
            ActivityRequest = new ActivityRequest { Name = "Nobody", OrchestrationInstance = new OrchestrationInstance { InstanceId = "wf-x" } },
        });

        var response = await _activityResponses.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Contains("'Nobody'", response.FailureDetails.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_workflow_work_item_is_replayed_and_the_new_actions_are_reported_with_the_token()
    {
        var request = Request([], [Started(T0), ExecutionStarted(nameof(GreetingWorkflow), "\"Bob\"")]);
        await _workItems.Writer.WriteAsync(new WorkItem { CompletionToken = "wf-token", OrchestratorRequest = request });

        var response = await _orchestratorResponses.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal("wf-1", response.InstanceId);
        Assert.Equal("wf-token", response.CompletionToken);
        var action = Assert.Single(response.Actions);
        Assert.Equal(nameof(GreetActivity), action.ScheduleTask.Name);
        Assert.Equal("\"Bob\"", action.ScheduleTask.Input);
    }

    [Fact]
    public async Task The_worker_reconnects_when_the_sidecar_ends_the_stream()
    {
        await WaitUntilAsync(() => Volatile.Read(ref _streamsOpened) >= 1);

        _dropNextStream = true;

        await WaitUntilAsync(() => Volatile.Read(ref _streamsOpened) >= 2);
        await _workItems.Writer.WriteAsync(new WorkItem
        {
            ActivityRequest = new ActivityRequest { Name = nameof(GreetActivity), Input = "\"again\"", OrchestrationInstance = new OrchestrationInstance { InstanceId = "i" } },
        });
        var response = await _activityResponses.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("\"Hello, again!\"", response.Result);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(50);
        }
    }

    public sealed class Greeting
    {
        public string Template { get; } = "Hello, {0}!";

        public string Format(string name) => string.Format(System.Globalization.CultureInfo.InvariantCulture, Template, name);
    }

    public sealed class GreetingWorkflow : Workflow<string, string>
    {
        public override Task<string> RunAsync(WorkflowContext context, string input)
            => context.CallActivityAsync<string>(nameof(GreetActivity), input);
    }

    public sealed class GreetActivity(Greeting greeting) : WorkflowActivity<string, string>
    {
        public override Task<string> RunAsync(WorkflowActivityContext context, string input) => Task.FromResult(greeting.Format(input));
    }

    public sealed class FailingActivity : WorkflowActivity<object?, object?>
    {
        public override Task<object?> RunAsync(WorkflowActivityContext context, object? input) => throw new InvalidOperationException("nope");
    }
}
