using System.Net;
using System.Text;
using System.Text.Json;
using AgentVerse.Runtime.Tests.Sidecar;
using AgentVerse.Testing;
using Microsoft.AspNetCore.Http;

namespace AgentVerse.Runtime.Tests.Actors;

/// <summary>The actor runtime against raw-HTTP actor hosts: turns, state, errors, placement, reentrancy, idleness, metadata.</summary>
public sealed class ActorRuntimeTests
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Calls_to_one_actor_never_overlap_while_calls_to_different_actors_run_in_parallel()
    {
        var inside = new Dictionary<string, int>();
        var maxPerActor = 0;
        var inAnyActor = 0;
        var maxAcrossActors = 0;
        var gate = new object();
        await using var app = await ActorApp.StartAsync(ActorApp.Config("Counter"), async (_, call) =>
        {
            lock (gate)
            {
                inside[call.Id] = inside.GetValueOrDefault(call.Id) + 1;
                maxPerActor = Math.Max(maxPerActor, inside[call.Id]);
                maxAcrossActors = Math.Max(maxAcrossActors, ++inAnyActor);
            }
            await Task.Delay(call.Id == "one" ? 2 : 300);
            lock (gate)
            {
                inside[call.Id]--;
                inAnyActor--;
            }
            return Results.Ok();
        });
        await using var run = await RuntimeRun.StartAsync([ComponentYaml.InMemoryActorStore], new AppSpec("host", app.Port));
        var client = run.Client("host");

        var sameActor = Enumerable.Range(0, 100).Select(i => client.PostAsync("v1.0/actors/Counter/one/method/add", Json($"{i}")));
        var responses = await Task.WhenAll(sameActor);
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(1, maxPerActor);
        Assert.Equal(100, app.App.Requests.Count(r => r.PathAndQuery == "/actors/Counter/one/method/add"));

        var started = DateTime.UtcNow;
        var different = Enumerable.Range(0, 8).Select(i => client.PutAsync($"v1.0/actors/Counter/a{i}/method/add", Json("1")));
        Assert.All(await Task.WhenAll(different), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.True(maxAcrossActors > 1, "calls to different actors should overlap");
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(8 * 0.3), "8 actors × 300 ms ran one after another");
        Assert.Equal(1, maxPerActor);
    }

    [Fact]
    public async Task Every_verb_reaches_the_app_as_PUT_with_body_and_headers_and_the_reply_comes_back()
    {
        await using var app = await ActorApp.StartAsync(ActorApp.Config("Echo"), (_, call) =>
            Task.FromResult(Results.Text($"{call.Context.Request.Method}:{call.Body}:{call.Context.Request.Headers["x-custom"]}", "text/plain")));
        await using var run = await RuntimeRun.StartAsync([ComponentYaml.InMemoryActorStore], new AppSpec("host", app.Port));

        using var request = new HttpRequestMessage(HttpMethod.Post, "v1.0/actors/Echo/e1/method/say") { Content = Json("\"hi\"") };
        request.Headers.Add("x-custom", "yes");
        using var response = await run.Client("host").SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("PUT:\"hi\":yes", await response.Content.ReadAsStringAsync());

        using var get = await run.Client("host").GetAsync("v1.0/actors/Echo/e1/method/say");
        Assert.Equal("PUT::", await get.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_non_200_reply_from_the_actor_becomes_500_ERR_ACTOR_INVOKE_METHOD_with_the_apps_status_and_body()
    {
        await using var app = await ActorApp.StartAsync(ActorApp.Config("Picky"), (_, call) =>
            Task.FromResult(call.Method == "missing" ? Results.NotFound("no such method") : Results.NoContent()));
        await using var run = await RuntimeRun.StartAsync([ComponentYaml.InMemoryActorStore], new AppSpec("host", app.Port));

        using var notFound = await run.Client("host").PutAsync("v1.0/actors/Picky/p/method/missing", Json("{}"));
        Assert.Equal(HttpStatusCode.InternalServerError, notFound.StatusCode);
        using var error = JsonDocument.Parse(await notFound.Content.ReadAsStringAsync());
        Assert.Equal("ERR_ACTOR_INVOKE_METHOD", error.RootElement.GetProperty("errorCode").GetString());
        Assert.Equal("error invoke actor method: error from actor service: (404) \"no such method\"", error.RootElement.GetProperty("message").GetString());

        // daprd demands exactly 200: a 204 is a failure too.
        using var noContent = await run.Client("host").PutAsync("v1.0/actors/Picky/p/method/other", Json("{}"));
        Assert.Equal(HttpStatusCode.InternalServerError, noContent.StatusCode);
        Assert.Contains("(204)", await noContent.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Calling_a_type_no_app_hosts_fails_with_did_not_find_address()
    {
        await using var run = await RuntimeRun.StartAsync([ComponentYaml.InMemoryActorStore], new AppSpec("lonely"));
        using var response = await run.Client("lonely").PostAsync("v1.0/actors/Nobody/x/method/m", Json("{}"));
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("ERR_ACTOR_INVOKE_METHOD", error.RootElement.GetProperty("errorCode").GetString());
        Assert.Equal("error invoke actor method: did not find address for actor Nobody/x", error.RootElement.GetProperty("message").GetString());
    }

    [Fact]
    public async Task An_app_without_dapr_config_hosts_no_actors_and_metadata_says_so()
    {
        await using var plain = await TestApp.StartAsync((_, _) => { });
        await using var run = await RuntimeRun.StartAsync([ComponentYaml.InMemoryActorStore], new AppSpec("plain", plain.Port));
        using var metadata = JsonDocument.Parse(await run.Client("plain").GetStringAsync("v1.0/metadata"));
        Assert.Empty(metadata.RootElement.GetProperty("actors").EnumerateArray());
        Assert.False(metadata.RootElement.GetProperty("actorRuntime").GetProperty("hostReady").GetBoolean());
    }

    [Fact]
    public async Task Actor_state_is_saved_in_a_transaction_under_the_host_app_key_and_read_back()
    {
        await using var app = await ActorApp.StartAsync(ActorApp.Config("Cart"), (_, _) => Task.FromResult(Results.Ok()));
        await using var run = await RuntimeRun.StartAsync([ComponentYaml.InMemoryActorStore], new AppSpec("shop", app.Port));
        var client = run.Client("shop");

        using var save = await client.PostAsync("v1.0/actors/Cart/c1/state", Json("""
            [{"operation":"upsert","request":{"key":"items","value":{"sku":"a","qty":2}}},
             {"operation":"upsert","request":{"key":"owner","value":"ann"}}]
            """));
        Assert.Equal(HttpStatusCode.NoContent, save.StatusCode);
        Assert.Equal("""{"sku":"a","qty":2}""", await client.GetStringAsync("v1.0/actors/Cart/c1/state/items"));

        var store = ((AgentVerse.Runtime.Sidecar.Sidecar)run.Runtime["shop"]).Actors!.StateStore!.Store;
        var raw = await store.GetAsync("shop||Cart||c1||owner", CancellationToken.None);
        Assert.Equal("\"ann\"", Encoding.UTF8.GetString(raw!.Value.Span));

        using var delete = await client.PutAsync("v1.0/actors/Cart/c1/state", Json("""[{"operation":"delete","request":{"key":"owner"}}]"""));
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using var missing = await client.GetAsync("v1.0/actors/Cart/c1/state/owner");
        Assert.Equal(HttpStatusCode.NoContent, missing.StatusCode);

        using var wrapped = await client.PostAsync("v1.0/actors/Cart/c1/state", Json("""{"operations":[]}"""));
        Assert.Equal(HttpStatusCode.BadRequest, wrapped.StatusCode);
        Assert.Contains("ERR_MALFORMED_REQUEST", await wrapped.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Actor_state_needs_the_hosting_sidecar_and_an_actor_state_store()
    {
        await using var app = await ActorApp.StartAsync(ActorApp.Config("Cart"), (_, _) => Task.FromResult(Results.Ok()));
        await using (var run = await RuntimeRun.StartAsync([ComponentYaml.InMemoryActorStore], new AppSpec("shop", app.Port), new AppSpec("other")))
        {
            using var elsewhere = await run.Client("other").GetAsync("v1.0/actors/Cart/c1/state/items");
            Assert.Equal(HttpStatusCode.InternalServerError, elsewhere.StatusCode); // "other" hosts no actors at all
            Assert.Contains("ERR_ACTOR_RUNTIME_NOT_FOUND", await elsewhere.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        await using (var run = await RuntimeRun.StartAsync([ComponentYaml.InMemoryState], new AppSpec("shop", app.Port)))
        {
            using var noActorStore = await run.Client("shop").GetAsync("v1.0/actors/Cart/c1/state/items");
            Assert.Equal(HttpStatusCode.InternalServerError, noActorStore.StatusCode);
            Assert.Contains("ERR_ACTOR_RUNTIME_NOT_FOUND", await noActorStore.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Actors_in_two_apps_call_each_other_through_their_sidecars()
    {
        await using var pong = await ActorApp.StartAsync(ActorApp.Config("Pong"), (_, call) =>
            Task.FromResult(Results.Text($"pong {call.Id} got {call.Body}", "text/plain")));
        await using var ping = await ActorApp.StartAsync(ActorApp.Config("Ping"), async (self, call) =>
        {
            using var reply = await self.Sidecar!.PutAsync($"v1.0/actors/Pong/{call.Id}/method/hit", Json(call.Body));
            return Results.Text("ping -> " + await reply.Content.ReadAsStringAsync(), "text/plain");
        });
        await using var run = await RuntimeRun.StartAsync([ComponentYaml.InMemoryActorStore], new AppSpec("pinger", ping.Port), new AppSpec("ponger", pong.Port));
        ping.Sidecar = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{run.Runtime["pinger"].HttpPort}/") };

        var reply = await run.Client("ponger").PostAsync("v1.0/actors/Ping/7/method/go", Json("\"ball\""));
        Assert.Equal(HttpStatusCode.OK, reply.StatusCode);
        Assert.Equal("ping -> pong 7 got \"ball\"", await reply.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_type_hosted_by_two_apps_spreads_ids_deterministically_across_both()
    {
        await using var first = await ActorApp.StartAsync(ActorApp.Config("Shared"), (_, _) => Task.FromResult(Results.Text("first")));
        await using var second = await ActorApp.StartAsync(ActorApp.Config("Shared"), (_, _) => Task.FromResult(Results.Text("second")));
        await using var run = await RuntimeRun.StartAsync([ComponentYaml.InMemoryActorStore], new AppSpec("first", first.Port), new AppSpec("second", second.Port));

        var owners = new Dictionary<string, string>();
        for (var i = 0; i < 40; i++)
        {
            owners[$"id{i}"] = await run.Client("first").GetStringAsync($"v1.0/actors/Shared/id{i}/method/who");
        }
        Assert.Contains("first", owners.Values);
        Assert.Contains("second", owners.Values);
        foreach (var (id, owner) in owners.Take(10))
        {
            Assert.Equal(owner, await run.Client("second").GetStringAsync($"v1.0/actors/Shared/{id}/method/who"));
        }

        // Actor state belongs to the owning host: the other host's sidecar refuses it, as daprd does.
        var ownedBySecond = owners.First(o => o.Value == "second").Key;
        using var missing = await run.Client("first").GetAsync($"v1.0/actors/Shared/{ownedBySecond}/state/k");
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("ERR_ACTOR_INSTANCE_MISSING", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var owned = await run.Client("second").GetAsync($"v1.0/actors/Shared/{ownedBySecond}/state/k");
        Assert.Equal(HttpStatusCode.NoContent, owned.StatusCode);
    }

    [Fact]
    public async Task Without_reentrancy_a_call_back_into_a_busy_actor_waits_for_its_turn_and_times_out()
    {
        await using var app = await ActorApp.StartAsync(ActorApp.Config("A,B"), async (self, call) =>
        {
            if (call.Type == "A" && call.Method == "start")
            {
                using var nested = await self.Sidecar!.PutAsync("v1.0/actors/B/b/method/callback", Json("{}"));
                return Results.Text($"nested {(int)nested.StatusCode} {await nested.Content.ReadAsStringAsync()}");
            }
            if (call.Type == "B")
            {
                using var back = await self.Sidecar!.PutAsync("v1.0/actors/A/a/method/inner", Json("{}"));
                return back.IsSuccessStatusCode ? Results.Ok() : Results.StatusCode((int)back.StatusCode);
            }
            return Results.Text("inner " + call.Context.Request.Headers["Dapr-Reentrancy-Id"]);
        });
        await using var run = await RuntimeRun.StartAsync([ComponentYaml.InMemoryActorStore], new AppSpec("host", app.Port));
        app.Sidecar = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{run.Runtime["host"].HttpPort}/") };
        ((AgentVerse.Runtime.Sidecar.Sidecar)run.Runtime["host"]).Actors!.TurnTimeout = TimeSpan.FromSeconds(1);

        var reply = await run.Client("host").PutAsync("v1.0/actors/A/a/method/start", Json("{}"));
        var text = await reply.Content.ReadAsStringAsync();
        Assert.StartsWith("nested 500", text, StringComparison.Ordinal);
        Assert.DoesNotContain(app.App.Requests, r => r.PathAndQuery == "/actors/A/a/method/inner" && r.Header("Dapr-Reentrancy-Id").Length > 0);
    }

    [Fact]
    public async Task With_reentrancy_a_call_chain_reenters_the_busy_actor_and_too_deep_a_chain_fails()
    {
        var config = ActorApp.Config("A,B", "\"reentrancy\":{\"enabled\":true,\"maxStackDepth\":4}");
        await using var app = await ActorApp.StartAsync(config, async (self, call) =>
        {
            var chain = call.Context.Request.Headers["Dapr-Reentrancy-Id"].ToString();
            HttpResponseMessage Forwarded(HttpRequestMessage request)
            {
                request.Headers.Add("Dapr-Reentrancy-Id", chain);
                return self.Sidecar!.Send(request);
            }
            switch (call.Type, call.Method)
            {
                case ("A", "start"):
                    using (var nested = Forwarded(new HttpRequestMessage(HttpMethod.Put, "v1.0/actors/B/b/method/callback") { Content = Json("{}") }))
                    {
                        return Results.Text(await nested.Content.ReadAsStringAsync());
                    }
                case ("B", "callback"):
                    using (var back = Forwarded(new HttpRequestMessage(HttpMethod.Put, "v1.0/actors/A/a/method/inner") { Content = Json("{}") }))
                    {
                        return Results.Text("B saw " + await back.Content.ReadAsStringAsync());
                    }
                case ("A", "recurse"):
                    var depth = int.Parse(call.Body, System.Globalization.CultureInfo.InvariantCulture);
                    using (var deeper = Forwarded(new HttpRequestMessage(HttpMethod.Put, "v1.0/actors/A/a/method/recurse") { Content = Json($"{depth + 1}") }))
                    {
                        var body = await deeper.Content.ReadAsStringAsync();
                        return Results.Text(deeper.IsSuccessStatusCode ? body : $"failed at {depth + 1}: {body}");
                    }
                default:
                    return Results.Text("inner with chain " + (chain.Length > 0));
            }
        });
        await using var run = await RuntimeRun.StartAsync([ComponentYaml.InMemoryActorStore], new AppSpec("host", app.Port));
        app.Sidecar = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{run.Runtime["host"].HttpPort}/") };
        ((AgentVerse.Runtime.Sidecar.Sidecar)run.Runtime["host"]).Actors!.TurnTimeout = TimeSpan.FromSeconds(5);

        Assert.Equal("B saw inner with chain True", await (await run.Client("host").PutAsync("v1.0/actors/A/a/method/start", Json("{}"))).Content.ReadAsStringAsync());

        var deep = await (await run.Client("host").PutAsync("v1.0/actors/A/a/method/recurse", Json("1"))).Content.ReadAsStringAsync();
        Assert.StartsWith("failed at 5: ", deep, StringComparison.Ordinal);
        Assert.Contains("ERR_ACTOR_STACK_DEPTH", deep, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_idle_actor_is_deactivated_with_a_DELETE_callback()
    {
        var config = ActorApp.Config("Sleepy", "\"actorIdleTimeout\":\"1s\",\"actorScanInterval\":\"200ms\"");
        await using var app = await ActorApp.StartAsync(config, (_, _) => Task.FromResult(Results.Ok()));
        await using var run = await RuntimeRun.StartAsync([ComponentYaml.InMemoryActorStore], new AppSpec("host", app.Port));

        Assert.Equal(HttpStatusCode.OK, (await run.Client("host").PutAsync("v1.0/actors/Sleepy/s1/method/poke", Json("{}"))).StatusCode);
        using (var metadata = JsonDocument.Parse(await run.Client("host").GetStringAsync("v1.0/metadata")))
        {
            var actors = metadata.RootElement.GetProperty("actors").EnumerateArray().Single();
            Assert.Equal("Sleepy", actors.GetProperty("type").GetString());
            Assert.Equal(1, actors.GetProperty("count").GetInt32());
            Assert.Equal("RUNNING", metadata.RootElement.GetProperty("actorRuntime").GetProperty("runtimeStatus").GetString());
            Assert.True(metadata.RootElement.GetProperty("actorRuntime").GetProperty("hostReady").GetBoolean());
        }
        Assert.Empty(app.Deactivated);

        await TestApp.EventuallyAsync(() => app.Deactivated.Contains(("Sleepy", "s1")), 5, "DELETE /actors/Sleepy/s1");
        using var after = JsonDocument.Parse(await run.Client("host").GetStringAsync("v1.0/metadata"));
        Assert.Equal(0, after.RootElement.GetProperty("actors").EnumerateArray().Single().GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Stopping_the_runtime_deactivates_the_active_actors()
    {
        await using var app = await ActorApp.StartAsync(ActorApp.Config("Busy"), (_, _) => Task.FromResult(Results.Ok()));
        await using (var run = await RuntimeRun.StartAsync([ComponentYaml.InMemoryActorStore], new AppSpec("host", app.Port)))
        {
            await run.Client("host").PutAsync("v1.0/actors/Busy/b1/method/work", Json("{}"));
            await run.Client("host").PutAsync("v1.0/actors/Busy/b2/method/work", Json("{}"));
            Assert.Empty(app.Deactivated);
        }
        Assert.Equal([("Busy", "b1"), ("Busy", "b2")], app.Deactivated.OrderBy(a => a.Id, StringComparer.Ordinal));
    }
}
