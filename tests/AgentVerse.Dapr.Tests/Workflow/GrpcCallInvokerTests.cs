using AgentVerse.Dapr.Workflow.Grpc;
using AgentVerse.Dapr.Workflow.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AgentVerse.Dapr.Tests.Workflow;

public sealed class GrpcCallInvokerTests : IAsyncLifetime
{
    private readonly TaskCompletionSource _endlessAborted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private GrpcTestServer _server = null!;
    private GrpcCallInvoker _invoker = null!;

    public async Task InitializeAsync()
    {
        _server = await GrpcTestServer.StartAsync(app =>
        {
            app.MapPost("/Test/Echo", async context =>
            {
                var request = await GrpcTestServer.ReadRequestAsync(context, CreateInstanceRequest.Parser);
                GrpcTestServer.StartResponse(context);
                var echoed = string.Join('|',
                    request.InstanceId,
                    context.Request.Headers["dapr-api-token"].ToString(),
                    context.Request.Headers["grpc-timeout"].ToString(),
                    context.Request.Headers.TE.ToString(),
                    context.Request.Protocol);
                await GrpcTestServer.WriteAsync(context, new CreateInstanceResponse { InstanceId = echoed });
                GrpcTestServer.EndWithStatus(context, GrpcStatusCode.OK);
            });
            app.MapPost("/Test/Stream", async context =>
            {
                var request = await GrpcTestServer.ReadRequestAsync(context, RaiseEventRequest.Parser);
                GrpcTestServer.StartResponse(context);
                var count = int.Parse(request.Name, System.Globalization.CultureInfo.InvariantCulture);
                for (var i = 0; i < count; i++)
                {
                    await GrpcTestServer.WriteAsync(context, new WorkItem { CompletionToken = i.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                }

                GrpcTestServer.EndWithStatus(context, GrpcStatusCode.OK);
            });
            app.MapPost("/Test/FailAfterOne", async context =>
            {
                await GrpcTestServer.ReadRequestAsync(context, RaiseEventRequest.Parser);
                GrpcTestServer.StartResponse(context);
                await GrpcTestServer.WriteAsync(context, new WorkItem { CompletionToken = "first" });
                GrpcTestServer.EndWithStatus(context, GrpcStatusCode.NotFound, "instance 'x' not found: 100% gone ü");
            });
            app.MapPost("/Test/TrailersOnly", async context =>
            {
                await GrpcTestServer.ReadRequestAsync(context, RaiseEventRequest.Parser);
                await GrpcTestServer.TrailersOnlyAsync(context, GrpcStatusCode.FailedPrecondition, "not now: 50% ready");
            });
            app.MapPost("/Test/Endless", async context =>
            {
                await GrpcTestServer.ReadRequestAsync(context, RaiseEventRequest.Parser);
                GrpcTestServer.StartResponse(context);
                context.RequestAborted.Register(() => _endlessAborted.TrySetResult());
                try
                {
                    for (var i = 0; ; i++)
                    {
                        await GrpcTestServer.WriteAsync(context, new WorkItem { CompletionToken = i.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                        await Task.Delay(20, context.RequestAborted);
                    }
                }
                catch (OperationCanceledException)
                {
                }
            });
            app.MapPost("/Test/Slow", async context =>
            {
                await GrpcTestServer.ReadRequestAsync(context, RaiseEventRequest.Parser);
                GrpcTestServer.StartResponse(context);
                await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
            });
        });
        _invoker = new GrpcCallInvoker(_server.Address, apiToken: "secret-token");
    }

    public async Task DisposeAsync()
    {
        _invoker.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Unary_call_echoes_over_http2_with_te_trailers_api_token_and_timeout()
    {
        var response = await _invoker.UnaryAsync(
            "/Test/Echo", new CreateInstanceRequest { InstanceId = "abc" }, CreateInstanceResponse.Parser, TimeSpan.FromSeconds(20));

        Assert.Equal("abc|secret-token|20000m|trailers|HTTP/2", response.InstanceId);
    }

    [Fact]
    public async Task Server_stream_yields_every_message_in_order()
    {
        var tokens = new List<string>();
        await foreach (var item in _invoker.ServerStreamingAsync("/Test/Stream", new RaiseEventRequest { Name = "200" }, WorkItem.Parser))
        {
            tokens.Add(item.CompletionToken);
        }

        Assert.Equal(Enumerable.Range(0, 200).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), tokens);
    }

    [Fact]
    public async Task Error_status_in_trailers_is_thrown_after_the_messages_with_a_decoded_message()
    {
        var tokens = new List<string>();
        var error = await Assert.ThrowsAsync<GrpcException>(async () =>
        {
            await foreach (var item in _invoker.ServerStreamingAsync("/Test/FailAfterOne", new RaiseEventRequest(), WorkItem.Parser))
            {
                tokens.Add(item.CompletionToken);
            }
        });

        Assert.Equal(["first"], tokens);
        Assert.Equal(GrpcStatusCode.NotFound, error.StatusCode);
        Assert.Equal("instance 'x' not found: 100% gone ü", error.Detail);
    }

    [Fact]
    public async Task Trailers_only_error_is_read_from_the_response_headers_for_unary_calls()
    {
        var error = await Assert.ThrowsAsync<GrpcException>(() =>
            _invoker.UnaryAsync("/Test/TrailersOnly", new RaiseEventRequest(), RaiseEventResponse.Parser));

        Assert.Equal(GrpcStatusCode.FailedPrecondition, error.StatusCode);
        Assert.Equal("not now: 50% ready", error.Detail);
    }

    [Fact]
    public async Task Trailers_only_error_is_read_from_the_response_headers_for_streams()
    {
        var error = await Assert.ThrowsAsync<GrpcException>(async () =>
        {
            await foreach (var unused in _invoker.ServerStreamingAsync("/Test/TrailersOnly", new RaiseEventRequest(), WorkItem.Parser))
            {
            }
        });

        Assert.Equal(GrpcStatusCode.FailedPrecondition, error.StatusCode);
    }

    [Fact]
    public async Task Unknown_method_maps_http_404_to_unimplemented()
    {
        var error = await Assert.ThrowsAsync<GrpcException>(() =>
            _invoker.UnaryAsync("/Test/Missing", new RaiseEventRequest(), RaiseEventResponse.Parser));

        Assert.Equal(GrpcStatusCode.Unimplemented, error.StatusCode);
    }

    [Fact]
    public async Task Cancelling_mid_stream_resets_the_http2_stream_and_the_server_sees_the_abort()
    {
        using var cts = new CancellationTokenSource();
        var received = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var unused in _invoker.ServerStreamingAsync("/Test/Endless", new RaiseEventRequest(), WorkItem.Parser, cancellationToken: cts.Token))
            {
                if (++received == 5)
                {
                    await cts.CancelAsync();
                }
            }
        });

        await _endlessAborted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(received >= 5);
    }

    [Fact]
    public async Task Breaking_out_of_a_stream_early_also_aborts_it()
    {
        await foreach (var unused in _invoker.ServerStreamingAsync("/Test/Endless", new RaiseEventRequest(), WorkItem.Parser))
        {
            break;
        }

        await _endlessAborted.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_deadline_that_passes_is_deadline_exceeded()
    {
        var error = await Assert.ThrowsAsync<GrpcException>(() =>
            _invoker.UnaryAsync("/Test/Slow", new RaiseEventRequest(), RaiseEventResponse.Parser, TimeSpan.FromMilliseconds(300)));

        Assert.Equal(GrpcStatusCode.DeadlineExceeded, error.StatusCode);
    }

    [Fact]
    public async Task Nothing_listening_is_unavailable()
    {
        using var invoker = new GrpcCallInvoker(new Uri("http://127.0.0.1:1"));

        var error = await Assert.ThrowsAsync<GrpcException>(() =>
            invoker.UnaryAsync("/Test/Echo", new RaiseEventRequest(), RaiseEventResponse.Parser));

        Assert.Equal(GrpcStatusCode.Unavailable, error.StatusCode);
    }

    [Fact]
    public async Task A_response_over_the_message_size_limit_is_resource_exhausted()
    {
        using var small = new GrpcCallInvoker(_server.Address, maxMessageSize: 8);

        var error = await Assert.ThrowsAsync<GrpcException>(() =>
            small.UnaryAsync("/Test/Echo", new CreateInstanceRequest { InstanceId = "a fairly long instance id" }, CreateInstanceResponse.Parser));

        Assert.Equal(GrpcStatusCode.ResourceExhausted, error.StatusCode);
    }

    [Theory]
    [InlineData(1500, "1500m")]
    [InlineData(0.5, "500u")]
    public void Timeouts_are_formatted_with_at_most_eight_digits_and_a_unit(double milliseconds, string expected)
        => Assert.Equal(expected, GrpcCallInvoker.FormatTimeout(TimeSpan.FromMilliseconds(milliseconds)));

    [Theory]
    [InlineData("plain text", "plain text")]
    [InlineData("100%", "100%25")]
    [InlineData("ü\n", "%C3%BC%0A")]
    public void Status_messages_are_percent_encoded_and_decoded(string message, string encoded)
    {
        Assert.Equal(encoded, GrpcStatusMessage.Encode(message));
        Assert.Equal(message, GrpcStatusMessage.Decode(encoded));
    }
}
