using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json;
using AgentVerse.Runtime.Sidecar;
using Microsoft.Extensions.Logging;

namespace AgentVerse.Runtime.Actors;

/// <summary>A call to an actor: which actor, which callback path under <c>/actors/{type}/{id}/</c>, and what to send.</summary>
internal sealed record ActorCall(
    string ActorType,
    string ActorId,
    string AppPath,
    byte[] Body,
    string? ContentType = "application/json",
    IReadOnlyList<KeyValuePair<string, string>>? Headers = null,
    string? ReentrancyId = null);

/// <summary>The app's buffered reply to an actor callback.</summary>
internal sealed record ActorCallResult(int StatusCode, byte[] Body, string? ContentType, IReadOnlyList<KeyValuePair<string, string>> Headers)
{
    public string? Header(string name) => Headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
}

/// <summary>
/// The actor runtime of one sidecar whose app hosts actor types (what daprd starts after reading
/// <c>GET /dapr/config</c>): turn-based calls into the app, activation tracking with idle deactivation,
/// timers, and the reminders of the hosted types.
/// </summary>
internal sealed class ActorHost : IAsyncDisposable
{
    public const string ReentrancyHeader = "Dapr-Reentrancy-Id";

    private readonly ConcurrentDictionary<string, ActiveActor> _active = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ActorTimer> _timers = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly TimeProvider _time;
    private Task? _idleScanner;

    private ActorHost(Sidecar.Sidecar sidecar, ActorAppConfig config, TimeProvider time)
    {
        Sidecar = sidecar;
        Config = config;
        _time = time;
        StateStore = sidecar.StateStores.Values.FirstOrDefault(s => s.IsActorStateStore);
        Reminders = new ActorReminders(this, time);
    }

    public Sidecar.Sidecar Sidecar { get; }
    public string AppId => Sidecar.AppId;
    public ActorAppConfig Config { get; }

    /// <summary>The component marked <c>actorStateStore: "true"</c>, if any.</summary>
    public StateStoreBinding? StateStore { get; }

    public ActorReminders Reminders { get; }

    /// <summary>Bounds waiting for the actor's turn: a call stuck behind a deadlocked chain (no reentrancy) fails instead of hanging.</summary>
    public TimeSpan TurnTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Bounds the app's reply to one actor callback.</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(60);

    public IEnumerable<(string Type, int Count)> ActiveCounts =>
        Config.Types.Select(t => (t, _active.Values.Count(a => a.ActorType == t)));

    /// <summary>Reads the app's actor configuration; null when the app hosts no actors (404, non-JSON or no entities).</summary>
    public static async Task<ActorHost?> StartAsync(Sidecar.Sidecar sidecar, TimeProvider time, CancellationToken cancellationToken)
    {
        if (sidecar.App is null)
        {
            return null;
        }
        ActorAppConfig config;
        try
        {
            // The app channel has no timeout of its own; an app that never answers must not hold up readiness.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            using var request = new HttpRequestMessage(HttpMethod.Get, "/dapr/config");
            using var response = await sidecar.App.SendAsync(request, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }
            config = ActorAppConfig.Parse(await response.Content.ReadAsByteArrayAsync(timeout.Token));
        }
        catch (Exception e) when (e is JsonException or HttpRequestException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            sidecar.Logger.LogWarning("App {AppId}: no actor configuration from /dapr/config: {Error}", sidecar.AppId, e.Message);
            return null;
        }
        if (config.Types.Count == 0)
        {
            return null;
        }
        var host = new ActorHost(sidecar, config, time);
        if (host.StateStore is null)
        {
            sidecar.Logger.LogWarning("App {AppId} hosts actors but no state store has actorStateStore: \"true\"; actor state and reminders are unavailable", sidecar.AppId);
        }
        await host.Reminders.StartAsync(cancellationToken);
        host._idleScanner = host.ScanForIdleActorsAsync(host._stopping.Token);
        sidecar.Runtime.ActorPlacement.Register(host);
        sidecar.Logger.LogInformation("App {AppId} hosts actor types {ActorTypes}", sidecar.AppId, string.Join(", ", config.Types));
        return host;
    }

    /// <summary>Calls the actor in its own turn. Throws <see cref="ActorStackDepthException"/> and <see cref="TimeoutException"/>.</summary>
    public async Task<ActorCallResult> InvokeAsync(ActorCall call, CancellationToken cancellationToken)
    {
        var settings = Config.For(call.ActorType);
        // daprd reuses the caller's reentrancy id or starts a new chain; without reentrancy there is none.
        var reentrancyId = settings.ReentrancyEnabled ? call.ReentrancyId ?? Guid.NewGuid().ToString() : null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        timeout.CancelAfter(TurnTimeout);

        ActiveActor actor;
        try
        {
            while (true)
            {
                actor = _active.GetOrAdd(Key(call.ActorType, call.ActorId), _ => new ActiveActor(call.ActorType, call.ActorId));
                await actor.Lock.AcquireAsync(reentrancyId, settings.MaxStackDepth, timeout.Token);
                if (!actor.Deactivated)
                {
                    break;
                }
                // Deactivated while this call waited for the turn: a fresh activation takes the call.
                actor.Lock.Release();
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"timed out after {TurnTimeout} waiting for the turn of actor {call.ActorType}/{call.ActorId}");
        }

        try
        {
            timeout.CancelAfter(CallTimeout);
            actor.LastUsed = _time.GetUtcNow();
            return await SendAsync(HttpMethod.Put, call, reentrancyId, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"actor {call.ActorType}/{call.ActorId} did not answer within {CallTimeout}");
        }
        finally
        {
            actor.LastUsed = _time.GetUtcNow();
            actor.Lock.Release();
        }
    }

    private async Task<ActorCallResult> SendAsync(HttpMethod method, ActorCall call, string? reentrancyId, CancellationToken cancellationToken)
    {
        var path = $"/actors/{Uri.EscapeDataString(call.ActorType)}/{Uri.EscapeDataString(call.ActorId)}{(call.AppPath.Length == 0 ? "" : "/" + call.AppPath)}";
        using var request = new HttpRequestMessage(method, path);
        if (method != HttpMethod.Delete)
        {
            request.Content = new ByteArrayContent(call.Body);
            if (call.ContentType is not null && MediaTypeHeaderValue.TryParse(call.ContentType, out var contentType))
            {
                request.Content.Headers.ContentType = contentType;
            }
        }
        foreach (var (name, value) in call.Headers ?? [])
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        if (reentrancyId is not null)
        {
            request.Headers.Remove(ReentrancyHeader);
            request.Headers.TryAddWithoutValidation(ReentrancyHeader, reentrancyId);
        }
        using var response = await Sidecar.App!.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        var headers = response.Headers.Concat(response.Content.Headers)
            .Select(h => new KeyValuePair<string, string>(h.Key, string.Join(",", h.Value))).ToList();
        return new ActorCallResult((int)response.StatusCode, body, response.Content.Headers.ContentType?.ToString(), headers);
    }

    /// <summary>Registers (or replaces) a timer on an actor of a hosted type. Timers live in memory only, as in daprd.</summary>
    public void CreateTimer(string actorType, string actorId, string name, ActorTimerSpec spec)
    {
        var key = Key(actorType, actorId) + "||" + name;
        var timer = new ActorTimer(actorType, actorId, name, spec, CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token));
        if (_timers.TryRemove(key, out var previous))
        {
            previous.Cancel();
        }
        _timers[key] = timer;
        timer.Run = RunTimerAsync(key, timer);
    }

    public void DeleteTimer(string actorType, string actorId, string name)
    {
        if (_timers.TryRemove(Key(actorType, actorId) + "||" + name, out var timer))
        {
            timer.Cancel();
        }
    }

    private async Task RunTimerAsync(string key, ActorTimer timer)
    {
        var spec = timer.Spec;
        var due = spec.DueAt;
        var fired = 0;
        try
        {
            while (true)
            {
                var wait = due - _time.GetUtcNow();
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, _time, timer.Stopping.Token);
                }
                if (spec.ExpiresAt is { } expires && _time.GetUtcNow() >= expires)
                {
                    break;
                }
                var body = JsonSerializer.SerializeToUtf8Bytes(new TimerPayload(spec.Callback, spec.Data, spec.DueTimeText, spec.Period?.Text ?? ""), ActorJson.Options);
                var owner = Sidecar.Runtime.ActorPlacement.Lookup(timer.ActorType, timer.ActorId) ?? this;
                var result = await owner.InvokeAsync(new ActorCall(timer.ActorType, timer.ActorId, "method/timer/" + Uri.EscapeDataString(timer.Name), body), timer.Stopping.Token);
                fired++;
                if (result.StatusCode != 200)
                {
                    Sidecar.Logger.LogWarning("Timer {Timer} of actor {ActorType}/{ActorId} failed: ({Status})", timer.Name, timer.ActorType, timer.ActorId, result.StatusCode);
                }
                if (string.Equals(result.Header("X-DaprReminderCancel"), "true", StringComparison.OrdinalIgnoreCase)
                    || spec.Period is null || spec.Period.IsZero || (spec.Period.Repetitions is { } n && fired >= n))
                {
                    break;
                }
                due = spec.Period.Next(due);
            }
        }
        catch (OperationCanceledException) when (timer.Stopping.IsCancellationRequested)
        {
            return; // deleted, replaced or deactivated: whoever cancelled it already removed it
        }
        catch (Exception e) when (e is TimeoutException or HttpRequestException or ActorStackDepthException)
        {
            Sidecar.Logger.LogWarning("Timer {Timer} of actor {ActorType}/{ActorId} stopped: {Error}", timer.Name, timer.ActorType, timer.ActorId, e.Message);
        }
        finally
        {
            timer.Stopping.Dispose();
        }
        _timers.TryRemove(new KeyValuePair<string, ActorTimer>(key, timer));
    }

    // daprd deactivates an actor once it has had no call for actorIdleTimeout: DELETE /actors/{type}/{id}.
    private async Task ScanForIdleActorsAsync(CancellationToken stopping)
    {
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                await Task.Delay(Config.ScanInterval, _time, stopping);
                var now = _time.GetUtcNow();
                foreach (var (key, actor) in _active)
                {
                    if (now - actor.LastUsed < Config.For(actor.ActorType).IdleTimeout || !actor.Lock.TryAcquireIdle())
                    {
                        continue;
                    }
                    try
                    {
                        actor.Deactivated = true;
                        _active.TryRemove(new KeyValuePair<string, ActiveActor>(key, actor));
                        foreach (var timerKey in _timers.Keys.Where(k => k.StartsWith(key + "||", StringComparison.Ordinal)))
                        {
                            if (_timers.TryRemove(timerKey, out var timer))
                            {
                                timer.Cancel();
                            }
                        }
                        await DeactivateAsync(actor, stopping);
                    }
                    finally
                    {
                        actor.Lock.Release();
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private async Task DeactivateAsync(ActiveActor actor, CancellationToken cancellationToken)
    {
        try
        {
            var result = await SendAsync(HttpMethod.Delete, new ActorCall(actor.ActorType, actor.ActorId, "", []), null, cancellationToken);
            Sidecar.Logger.LogDebug("Deactivated actor {ActorType}/{ActorId}: {Status}", actor.ActorType, actor.ActorId, result.StatusCode);
        }
        catch (HttpRequestException e)
        {
            Sidecar.Logger.LogWarning("Deactivating actor {ActorType}/{ActorId} failed: {Error}", actor.ActorType, actor.ActorId, e.Message);
        }
    }

    // daprd drains on shutdown: each idle active actor gets its DELETE callback so the app can run OnDeactivate.
    // Bounded, because the app may already be gone when its sidecar stops.
    private async Task DeactivateAllAsync()
    {
        using var budget = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        foreach (var (key, actor) in _active)
        {
            if (budget.IsCancellationRequested || !actor.Lock.TryAcquireIdle())
            {
                continue;
            }
            try
            {
                actor.Deactivated = true;
                _active.TryRemove(new KeyValuePair<string, ActiveActor>(key, actor));
                await DeactivateAsync(actor, budget.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            finally
            {
                actor.Lock.Release();
            }
        }
    }

    public static string Key(string actorType, string actorId) => actorType + "||" + actorId;

    public async ValueTask DisposeAsync()
    {
        Sidecar.Runtime.ActorPlacement.Unregister(this);
        await DeactivateAllAsync();
        await _stopping.CancelAsync();
        foreach (var timer in _timers.Values)
        {
            timer.Cancel();
        }
        if (_idleScanner is not null)
        {
            await _idleScanner.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        await Reminders.DisposeAsync();
        _stopping.Dispose();
    }

    private sealed class ActiveActor(string actorType, string actorId)
    {
        public string ActorType { get; } = actorType;
        public string ActorId { get; } = actorId;
        public ActorTurnLock Lock { get; } = new();
        public DateTimeOffset LastUsed { get; set; }
        public bool Deactivated { get; set; }
    }

    private sealed class ActorTimer(string actorType, string actorId, string name, ActorTimerSpec spec, CancellationTokenSource stopping)
    {
        public string ActorType { get; } = actorType;
        public string ActorId { get; } = actorId;
        public string Name { get; } = name;
        public ActorTimerSpec Spec { get; } = spec;
        public CancellationTokenSource Stopping { get; } = stopping;
        public Task? Run { get; set; }

        public void Cancel()
        {
            try
            {
                Stopping.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    private sealed record TimerPayload(string Callback, JsonElement? Data, string DueTime, string Period);
}

/// <summary>A validated timer registration.</summary>
internal sealed record ActorTimerSpec(string Callback, JsonElement? Data, DateTimeOffset DueAt, string DueTimeText, ActorPeriod? Period, DateTimeOffset? ExpiresAt);

internal static class ActorJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);
}
