using System.Collections.Concurrent;
using AgentVerse.Dapr.Workflow;
using AgentVerse.Dapr.Workflow.Grpc;
using AgentVerse.Dapr.Workflow.Protocol;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AgentVerse.Dapr.Tests.Workflow;

/// <summary>What the client puts on the wire and how it reads answers, against a recording h2c server.</summary>
public sealed class DaprWorkflowClientTests : IAsyncLifetime
{
    private const string Service = "/TaskHubSidecarService/";

    private readonly ConcurrentDictionary<string, IMessage> _requests = new();
    private GrpcTestServer _server = null!;
    private GrpcCallInvoker _invoker = null!;
    private DaprWorkflowClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await GrpcTestServer.StartAsync(app =>
        {
            Map(app, "StartInstance", CreateInstanceRequest.Parser, r => new CreateInstanceResponse { InstanceId = r.InstanceId });
            Map(app, "GetInstance", GetInstanceRequest.Parser, r => r.InstanceId == "missing"
                ? new GetInstanceResponse { Exists = false }
                : new GetInstanceResponse
                {
                    Exists = true,
                    OrchestrationState = new OrchestrationState
                    {
                        InstanceId = r.InstanceId,
                        Name = "Order",
                        OrchestrationStatus = OrchestrationStatus.Failed,
                        CreatedTimestamp = Timestamp.FromDateTime(History.T0),
                        LastUpdatedTimestamp = Timestamp.FromDateTime(History.T0.AddMinutes(1)),
                        Input = "{\"orderId\":7}",
                        Output = "\"out\"",
                        CustomStatus = "{\"step\":2}",
                        FailureDetails = new TaskFailureDetails { ErrorType = "System.TimeoutException", ErrorMessage = "slow" },
                    },
                });
            Map(app, "RaiseEvent", RaiseEventRequest.Parser, _ => new RaiseEventResponse());
            Map(app, "TerminateInstance", TerminateRequest.Parser, _ => new TerminateResponse());
            Map(app, "SuspendInstance", SuspendRequest.Parser, _ => new SuspendResponse());
            Map(app, "ResumeInstance", ResumeRequest.Parser, _ => new ResumeResponse());
            Map(app, "PurgeInstances", PurgeInstancesRequest.Parser, _ => new PurgeInstancesResponse { DeletedInstanceCount = 1 });
        });
        _invoker = new GrpcCallInvoker(_server.Address);
        _client = new DaprWorkflowClient(_invoker);
    }

    public async Task DisposeAsync()
    {
        _invoker.Dispose();
        await _server.DisposeAsync();
    }

    private void Map<TRequest, TResponse>(Microsoft.AspNetCore.Routing.IEndpointRouteBuilder app, string method, MessageParser<TRequest> parser, Func<TRequest, TResponse> answer)
        where TRequest : class, IMessage<TRequest>
        where TResponse : IMessage
        => app.MapPost(Service + method, async context =>
        {
            var request = await GrpcTestServer.ReadRequestAsync(context, parser);
            _requests[method] = request;
            GrpcTestServer.StartResponse(context);
            await GrpcTestServer.WriteAsync(context, answer(request));
            GrpcTestServer.EndWithStatus(context, GrpcStatusCode.OK);
        });

    private T Sent<T>(string method) => Assert.IsType<T>(_requests[method]);

    [Fact]
    public async Task Scheduling_sends_the_name_json_input_and_start_time_and_generates_an_instance_id()
    {
        var startAt = new DateTime(2030, 5, 6, 7, 8, 9, DateTimeKind.Utc);

        var id = await _client.ScheduleNewWorkflowAsync("Order", input: new { OrderId = 7 }, startTime: startAt);

        var sent = Sent<CreateInstanceRequest>("StartInstance");
        Assert.True(Guid.TryParse(id, out _));
        Assert.Equal(id, sent.InstanceId);
        Assert.Equal("Order", sent.Name);
        Assert.Equal("{\"orderId\":7}", sent.Input);
        Assert.Equal(startAt, sent.ScheduledStartTimestamp.ToDateTime());
    }

    [Fact]
    public async Task Scheduling_without_input_sends_no_input_and_keeps_the_given_id()
    {
        var id = await _client.ScheduleNewWorkflowAsync("Order", "order-7");

        var sent = Sent<CreateInstanceRequest>("StartInstance");
        Assert.Equal("order-7", id);
        Assert.Null(sent.Input);
        Assert.Null(sent.ScheduledStartTimestamp);
    }

    [Fact]
    public async Task Workflow_state_maps_status_times_payloads_and_failure()
    {
        var state = await _client.GetWorkflowStateAsync("order-7", getInputsAndOutputs: true);

        Assert.True(Sent<GetInstanceRequest>("GetInstance").GetInputsAndOutputs);
        Assert.NotNull(state);
        Assert.Equal("order-7", state.InstanceId);
        Assert.Equal("Order", state.Name);
        Assert.Equal(WorkflowRuntimeStatus.Failed, state.RuntimeStatus);
        Assert.True(state.IsWorkflowCompleted);
        Assert.False(state.IsWorkflowRunning);
        Assert.Equal(new DateTimeOffset(History.T0), state.CreatedAt);
        Assert.Equal(new DateTimeOffset(History.T0.AddMinutes(1)), state.LastUpdatedAt);
        Assert.Equal("out", state.ReadOutputAs<string>());
        Assert.Equal(7, state.ReadInputAs<OrderInput>()!.OrderId);
        Assert.Equal(2, state.ReadCustomStatusAs<Progress>()!.Step);
        Assert.True(state.FailureDetails!.IsCausedBy<TimeoutException>());
        Assert.Equal("slow", state.FailureDetails.ErrorMessage);
    }

    [Fact]
    public async Task An_instance_that_does_not_exist_has_no_state()
    {
        Assert.Null(await _client.GetWorkflowStateAsync("missing"));
    }

    [Fact]
    public async Task Management_calls_send_the_instance_and_payloads()
    {
        await _client.RaiseEventAsync("order-7", "approve", new { By = "ada" });
        await _client.TerminateWorkflowAsync("order-7", "bye");
        await _client.SuspendWorkflowAsync("order-7", "pause");
        await _client.ResumeWorkflowAsync("order-7");
        var purged = await _client.PurgeInstanceAsync("order-7");

        var raise = Sent<RaiseEventRequest>("RaiseEvent");
        Assert.Equal(("order-7", "approve", "{\"by\":\"ada\"}"), (raise.InstanceId, raise.Name, raise.Input));
        var terminate = Sent<TerminateRequest>("TerminateInstance");
        Assert.Equal(("order-7", "\"bye\""), (terminate.InstanceId, terminate.Output));
        Assert.Equal("pause", Sent<SuspendRequest>("SuspendInstance").Reason);
        Assert.Equal("order-7", Sent<ResumeRequest>("ResumeInstance").InstanceId);
        Assert.Equal("order-7", Sent<PurgeInstancesRequest>("PurgeInstances").InstanceId);
        Assert.True(purged);
    }

    private sealed record OrderInput(int OrderId);

    private sealed record Progress(int Step);
}
