using System.Diagnostics;
using System.Net;
using AgentVerse.Dapr.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace AgentVerse.Dapr.Tests.Client;

/// <summary>Secrets, metadata, health, tracing and registration against <see cref="RecordingSidecar"/>.</summary>
public sealed class SidecarApiWireFormatTests : RecordingSidecarTests
{
    [Fact]
    public async Task Get_secret_reads_the_key_value_map_and_sends_metadata()
    {
        Sidecar.RepliesWith(200, """{"user":"admin","password":"p@ss"}""");

        var secret = await Client.GetSecretAsync("vault", "db", new Dictionary<string, string> { ["namespace"] = "prod" });

        Assert.Equal(new Dictionary<string, string> { ["user"] = "admin", ["password"] = "p@ss" }, secret);
        Assert.Equal("/v1.0/secrets/vault/db?metadata.namespace=prod", Sidecar.SingleRequest.RawTarget);
    }

    [Fact]
    public async Task Get_bulk_secret_reads_nested_maps_and_204_is_empty()
    {
        Sidecar.RepliesWith(200, """{"db":{"password":"p"},"api":{"api":"k"}}""");
        var all = await Client.GetBulkSecretAsync("vault");
        Sidecar.RepliesWith(204);
        var none = await Client.GetBulkSecretAsync("vault");

        Assert.Equal("p", all["db"]["password"]);
        Assert.Equal("k", all["api"]["api"]);
        Assert.Empty(none);
        Assert.Equal("/v1.0/secrets/vault/bulk", Sidecar.Requests[0].RawTarget);
    }

    [Fact]
    public async Task Secret_store_not_found_is_a_401_with_its_own_error_code()
    {
        Sidecar.RepliesWith(401, """{"errorCode":"ERR_SECRET_STORE_NOT_FOUND","message":"failed finding secret store with key nope"}""");

        var error = await Assert.ThrowsAsync<DaprApiException>(() => Client.GetSecretAsync("nope", "db"));

        Assert.Equal("ERR_SECRET_STORE_NOT_FOUND", error.ErrorCode);
    }

    [Fact]
    public async Task Get_metadata_reads_the_typed_model()
    {
        Sidecar.RepliesWith(200, """
            {"id":"app1","runtimeVersion":"1.16.0","enabledFeatures":["SchedulerReminders"],
             "actors":[{"type":"Agent","count":2}],
             "components":[{"name":"statestore","type":"state.in-memory","version":"v1","capabilities":["ETAG","TRANSACTIONAL","TTL","ACTOR"]}],
             "httpEndpoints":[{"name":"github"}],
             "subscriptions":[{"pubsubname":"pubsub","topic":"orders","metadata":{"rawPayload":"true"},"rules":[{"match":"","path":"/orders"}],"deadLetterTopic":"dead","type":"PROGRAMMATIC"}],
             "extended":{"appCommand":"dotnet run"},
             "appConnectionProperties":{"port":5000,"protocol":"http","channelAddress":"127.0.0.1","maxConcurrency":-1,
               "health":{"healthCheckPath":"/healthz","healthProbeInterval":"5s","healthProbeTimeout":"500ms","healthThreshold":3}},
             "actorRuntime":{"runtimeStatus":"RUNNING","activeActors":[{"type":"Agent","count":2}],"hostReady":true,"placement":"placement: connected"},
             "scheduler":{"connected_addresses":["127.0.0.1:50006"]},
             "workflows":{"connectedWorkers":1}}
            """);

        var metadata = await Client.GetMetadataAsync();

        Assert.Equal("app1", metadata.Id);
        Assert.Equal("1.16.0", metadata.RuntimeVersion);
        Assert.Equal(["SchedulerReminders"], metadata.EnabledFeatures);
        Assert.Equal(new DaprActorMetadata("Agent", 2), Assert.Single(metadata.Actors));
        var component = Assert.Single(metadata.Components);
        Assert.Equal(("statestore", "state.in-memory", "v1"), (component.Name, component.Type, component.Version));
        Assert.Contains("TRANSACTIONAL", component.Capabilities!);
        Assert.Equal("github", Assert.Single(metadata.HttpEndpoints).Name);
        var subscription = Assert.Single(metadata.Subscriptions);
        Assert.Equal(("pubsub", "orders", "dead", "PROGRAMMATIC"), (subscription.PubsubName, subscription.Topic, subscription.DeadLetterTopic, subscription.Type));
        Assert.Equal("/orders", Assert.Single(subscription.Rules!).Path);
        Assert.Equal("dotnet run", metadata.Extended["appCommand"]);
        Assert.Equal(5000, metadata.AppConnectionProperties!.Port);
        Assert.Equal(3, metadata.AppConnectionProperties.Health!.HealthThreshold);
        Assert.Equal("RUNNING", metadata.ActorRuntime!.RuntimeStatus);
        Assert.True(metadata.ActorRuntime.HostReady);
        Assert.Equal(["127.0.0.1:50006"], metadata.Scheduler!.ConnectedAddresses!);
        Assert.Equal(1, metadata.Workflows!.ConnectedWorkers);
    }

    [Fact]
    public async Task Set_metadata_puts_the_value_as_plain_text()
    {
        await Client.SetMetadataAsync("owner", "team agents");

        var request = Sidecar.SingleRequest;
        Assert.Equal("PUT", request.Method);
        Assert.Equal("/v1.0/metadata/owner", request.RawTarget);
        Assert.StartsWith("text/plain", request.Header("Content-Type"), StringComparison.Ordinal);
        Assert.Equal("team agents", request.BodyText);
    }

    [Fact]
    public async Task Health_checks_read_the_status_of_healthz_and_outbound()
    {
        Sidecar.Reply = (request, context) =>
        {
            context.Response.StatusCode = request.Path == "/v1.0/healthz/outbound" ? 204 : 500;
            return Task.CompletedTask;
        };

        Assert.True(await Client.CheckOutboundHealthAsync());
        Assert.False(await Client.CheckHealthAsync());
        Assert.Equal(["/v1.0/healthz/outbound", "/v1.0/healthz"], Sidecar.Requests.Select(r => r.RawTarget));
    }

    [Fact]
    public async Task Health_check_is_false_when_nothing_listens()
    {
        var port = Sidecar.Address.Port;
        await Sidecar.DisposeAsync();
        var unreachable = new DaprClientBuilder().UseHttpEndpoint($"http://127.0.0.1:{port}").Build();

        Assert.False(await unreachable.CheckOutboundHealthAsync());
        var error = await Assert.ThrowsAsync<DaprException>(() => unreachable.GetStateAsync<int>("statestore", "k"));
        Assert.IsType<HttpRequestException>(error.InnerException);
    }

    [Fact]
    public async Task Health_check_is_false_when_the_sidecar_does_not_answer_in_time()
    {
        Sidecar.Reply = async (_, context) => await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);
        using var http = new HttpClient { Timeout = TimeSpan.FromMilliseconds(200) };
        using var slow = new DaprClient(http, new DaprClientOptions { HttpEndpoint = Sidecar.Address });

        Assert.False(await slow.CheckOutboundHealthAsync());
    }

    [Fact]
    public async Task Wait_for_sidecar_polls_outbound_health_until_it_is_ready()
    {
        var calls = 0;
        Sidecar.Reply = (_, context) =>
        {
            context.Response.StatusCode = Interlocked.Increment(ref calls) < 3 ? 500 : 204;
            return Task.CompletedTask;
        };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        await Client.WaitForSidecarAsync(timeout.Token);

        Assert.Equal(3, calls);
        Assert.All(Sidecar.Requests, r => Assert.Equal("/v1.0/healthz/outbound", r.RawTarget));
    }

    [Fact]
    public async Task Wait_for_sidecar_gives_up_when_cancelled()
    {
        Sidecar.RepliesWith(500, """{"errorCode":"ERR_OUTBOUND_HEALTH_NOT_READY","message":"not ready"}""");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Client.WaitForSidecarAsync(timeout.Token));
    }

    [Fact]
    public async Task Shutdown_posts_to_the_shutdown_api()
    {
        await Client.ShutdownSidecarAsync();

        Assert.Equal(("POST", "/v1.0/shutdown"), (Sidecar.SingleRequest.Method, Sidecar.SingleRequest.RawTarget));
    }

    [Fact]
    public async Task The_current_activitys_trace_context_reaches_the_sidecar()
    {
        using var activity = new Activity("agent-run").SetIdFormat(ActivityIdFormat.W3C).Start();
        activity.TraceStateString = "agentverse=1";

        await Client.PublishEventAsync("pubsub", "orders", 1);

        var traceparent = Sidecar.SingleRequest.Header("traceparent");
        Assert.NotNull(traceparent);
        Assert.Equal(activity.TraceId.ToHexString(), traceparent.Split('-')[1]);
        Assert.Equal("agentverse=1", Sidecar.SingleRequest.Header("tracestate"));
    }

    [Fact]
    public async Task Add_dapr_client_registers_a_singleton_configured_by_options()
    {
        var services = new ServiceCollection();
        services.AddDaprClient(o =>
        {
            o.HttpEndpoint = Sidecar.Address;
            o.ApiToken = "from-options";
        });
        await using var provider = services.BuildServiceProvider();

        var dapr = provider.GetRequiredService<DaprClient>();
        await dapr.SaveStateAsync("statestore", "k", 1);

        Assert.Same(dapr, provider.GetRequiredService<DaprClient>());
        Assert.Equal("from-options", Sidecar.SingleRequest.Header("dapr-api-token"));
    }

    [Fact]
    public async Task An_http_client_base_address_is_used_when_no_options_are_given()
    {
        using var http = new HttpClient { BaseAddress = Sidecar.Address };
        var fromHttpClient = new DaprClient(http);

        Assert.True(await fromHttpClient.CheckOutboundHealthAsync());
        Assert.Equal("/v1.0/healthz/outbound", Sidecar.SingleRequest.RawTarget);
    }
}
