using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using AgentVerse.Runtime.Tests.Sidecar;
using AgentVerse.Testing;
using Microsoft.AspNetCore.Http;

namespace AgentVerse.Runtime.Tests.Actors;

/// <summary>Reminders (persisted, survive a restart) and timers (in memory).</summary>
public sealed class ActorRemindersTests
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task A_reminder_fires_with_its_data_and_stops_after_its_repetitions()
    {
        var fired = new ConcurrentQueue<(string Path, string Body)>();
        await using var app = await ActorApp.StartAsync(ActorApp.Config("Alarm"), (_, call) =>
        {
            fired.Enqueue((call.Method, call.Body));
            return Task.FromResult(Results.Ok());
        });
        await using var run = await RuntimeRun.StartAsync([ComponentYaml.InMemoryActorStore], new AppSpec("host", app.Port));
        var client = run.Client("host");

        using var create = await client.PostAsync("v1.0/actors/Alarm/a1/reminders/wake", Json("""{"dueTime":"0h0m0s100ms","period":"R3/PT0.2S","data":{"note":"up"}}"""));
        Assert.Equal(HttpStatusCode.NoContent, create.StatusCode);
        using (var get = JsonDocument.Parse(await client.GetStringAsync("v1.0/actors/Alarm/a1/reminders/wake")))
        {
            Assert.Equal("a1", get.RootElement.GetProperty("actorID").GetString());
            Assert.Equal("R3/PT0.2S", get.RootElement.GetProperty("period").GetString());
            Assert.Equal("up", get.RootElement.GetProperty("data").GetProperty("note").GetString());
        }

        await TestApp.EventuallyAsync(() => fired.Count >= 3, 5);
        await Task.Delay(600);
        Assert.Equal(3, fired.Count);
        var (path, body) = fired.First();
        Assert.Equal("remind/wake", path);
        using var payload = JsonDocument.Parse(body);
        Assert.Equal("up", payload.RootElement.GetProperty("data").GetProperty("note").GetString());
        Assert.Equal("0h0m0s100ms", payload.RootElement.GetProperty("dueTime").GetString());
        Assert.Equal("R3/PT0.2S", payload.RootElement.GetProperty("period").GetString());
        Assert.Equal("{}", await client.GetStringAsync("v1.0/actors/Alarm/a1/reminders/wake")); // gone once exhausted
    }

    [Fact]
    public async Task The_app_stops_a_recurring_reminder_with_X_DaprReminderCancel_and_a_deleted_one_never_fires()
    {
        var fired = new ConcurrentQueue<string>();
        await using var app = await ActorApp.StartAsync(ActorApp.Config("Alarm"), (_, call) =>
        {
            fired.Enqueue(call.Method);
            call.Context.Response.Headers["X-DaprReminderCancel"] = "true";
            return Task.FromResult(Results.Ok());
        });
        await using var run = await RuntimeRun.StartAsync([ComponentYaml.InMemoryActorStore], new AppSpec("host", app.Port));
        var client = run.Client("host");

        await client.PostAsync("v1.0/actors/Alarm/a1/reminders/loop", Json("""{"dueTime":"100ms","period":"100ms"}"""));
        await client.PostAsync("v1.0/actors/Alarm/a1/reminders/later", Json("""{"dueTime":"PT1S"}"""));
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("v1.0/actors/Alarm/a1/reminders/later")).StatusCode);

        await TestApp.EventuallyAsync(() => fired.Contains("remind/loop"), 5);
        await Task.Delay(1300);
        Assert.Equal(["remind/loop"], fired.ToArray());
    }

    [Fact]
    public async Task A_recurring_reminder_stops_at_its_ttl()
    {
        var fired = new ConcurrentQueue<DateTime>();
        await using var app = await ActorApp.StartAsync(ActorApp.Config("Alarm"), (_, _) =>
        {
            fired.Enqueue(DateTime.UtcNow);
            return Task.FromResult(Results.Ok());
        });
        await using var run = await RuntimeRun.StartAsync([ComponentYaml.InMemoryActorStore], new AppSpec("host", app.Port));

        using var create = await run.Client("host").PostAsync("v1.0/actors/Alarm/a1/reminders/brief", Json("""{"dueTime":"0s","period":"200ms","ttl":"PT0.5S"}"""));
        Assert.Equal(HttpStatusCode.NoContent, create.StatusCode);
        await Task.Delay(1200);
        Assert.InRange(fired.Count, 1, 3); // due at 0, 200 and 400 ms (a loaded machine may miss the last); never after 500 ms
        Assert.Equal("{}", await run.Client("host").GetStringAsync("v1.0/actors/Alarm/a1/reminders/brief"));
    }

    [Fact]
    public async Task Reminder_requests_are_validated_and_only_accepted_by_a_hosting_sidecar()
    {
        await using var app = await ActorApp.StartAsync(ActorApp.Config("Alarm"), (_, _) => Task.FromResult(Results.Ok()));
        await using var run = await RuntimeRun.StartAsync([ComponentYaml.InMemoryActorStore], new AppSpec("host", app.Port), new AppSpec("client"));

        using var badPeriod = await run.Client("host").PostAsync("v1.0/actors/Alarm/a1/reminders/r", Json("""{"period":"every day"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, badPeriod.StatusCode);

        using var notHosted = await run.Client("client").PostAsync("v1.0/actors/Alarm/a1/reminders/r", Json("""{"dueTime":"1m"}"""));
        Assert.Equal(HttpStatusCode.Forbidden, notHosted.StatusCode);
        Assert.Contains("ERR_ACTOR_REMINDER_NON_HOSTED", await notHosted.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reminder_fires_after_the_runtime_is_restarted_over_the_same_sqlite_store()
    {
        var directory = await ResourcesDirectory.CreateAsync(ComponentYaml.SqliteActorStore);
        var fired = new ConcurrentQueue<string>();
        await using var app = await ActorApp.StartAsync(ActorApp.Config("Alarm"), (_, call) =>
        {
            fired.Enqueue(call.Id + ":" + call.Body);
            return Task.FromResult(Results.Ok());
        });
        SidecarOptions[] sidecars = [new SidecarOptions { AppId = "host", AppPort = app.Port, ResourcesPaths = [directory] }];

        await using (var first = await LocalRuntime.StartAsync(sidecars, TestLogging.LoggerFactory(), CancellationToken.None))
        {
            await first["host"].AppReady.WaitAsync(TimeSpan.FromSeconds(10));
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{first["host"].HttpPort}/") };
            var due = DateTimeOffset.UtcNow.AddSeconds(2).ToString("yyyy-MM-dd'T'HH:mm:ss.fffK", System.Globalization.CultureInfo.InvariantCulture);
            using var create = await client.PostAsync("v1.0/actors/Alarm/persisted/reminders/wake", Json($$"""{"dueTime":"{{due}}","data":"survived"}"""));
            Assert.Equal(HttpStatusCode.NoContent, create.StatusCode);
        }
        Assert.Empty(fired);

        await using var second = await LocalRuntime.StartAsync(sidecars, TestLogging.LoggerFactory(), CancellationToken.None);
        await second["host"].AppReady.WaitAsync(TimeSpan.FromSeconds(10));
        await TestApp.EventuallyAsync(() => !fired.IsEmpty, 10, "the persisted reminder fires after the restart");
        Assert.StartsWith("persisted:{\"data\":\"survived\",\"dueTime\":\"", fired.Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_timer_calls_back_with_its_callback_and_data_until_it_is_deleted()
    {
        var fired = new ConcurrentQueue<string>();
        await using var app = await ActorApp.StartAsync(ActorApp.Config("Ticker"), (_, call) =>
        {
            fired.Enqueue(call.Method + " " + call.Body);
            return Task.FromResult(Results.Ok());
        });
        await using var run = await RuntimeRun.StartAsync([ComponentYaml.InMemoryActorStore], new AppSpec("host", app.Port));
        var client = run.Client("host");

        using var create = await client.PostAsync("v1.0/actors/Ticker/t1/timers/tick", Json("""{"dueTime":"0s","period":"100ms","callback":"OnTick","data":{"n":1}}"""));
        Assert.Equal(HttpStatusCode.NoContent, create.StatusCode);
        await TestApp.EventuallyAsync(() => fired.Count >= 3, 5);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("v1.0/actors/Ticker/t1/timers/tick")).StatusCode);
        await Task.Delay(500); // a firing already in flight may still land
        var count = fired.Count;
        await Task.Delay(400);
        Assert.Equal(count, fired.Count);

        var first = fired.First();
        Assert.StartsWith("timer/tick ", first, StringComparison.Ordinal);
        using var payload = JsonDocument.Parse(first["timer/tick ".Length..]);
        Assert.Equal("OnTick", payload.RootElement.GetProperty("callback").GetString());
        Assert.Equal(1, payload.RootElement.GetProperty("data").GetProperty("n").GetInt32());
        Assert.Equal("100ms", payload.RootElement.GetProperty("period").GetString());
    }
}
