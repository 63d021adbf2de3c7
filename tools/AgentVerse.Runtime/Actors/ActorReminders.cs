using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using AgentVerse.Runtime.State;
using Microsoft.Extensions.Logging;

namespace AgentVerse.Runtime.Actors;

/// <summary>One persisted reminder. Times are kept as the caller wrote them, plus the next due instant.</summary>
internal sealed class ReminderRecord
{
    public required string ActorId { get; init; }
    public required string Name { get; init; }

    /// <summary>The raw JSON given at creation, sent back verbatim on every firing (null when none).</summary>
    public string? Data { get; init; }

    public string DueTime { get; init; } = "";
    public string Period { get; init; } = "";
    public string Ttl { get; init; } = "";
    public DateTimeOffset NextDue { get; set; }
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>Firings left from an <c>Rn/</c> period; null = unbounded.</summary>
    public int? Remaining { get; set; }

    [JsonIgnore]
    public bool InFlight { get; set; }
}

/// <summary>
/// The reminders of the actor types one app hosts. Storage (the actor state store, raw keys): one
/// document per hosted type at <c>{hostAppId}||dapr-reminders||{actorType}</c> holding a JSON array of
/// <see cref="ReminderRecord"/>, rewritten whole on every change. daprd's legacy state-store reminders
/// used the same shape (<c>actors||{type}</c>, one array per type); one document keeps create/delete
/// atomic without a listing API on the store, and loading at start needs only the types from
/// <c>/dapr/config</c>. Firing goes through placement to the actor's owner, in the actor's turn.
/// </summary>
internal sealed class ActorReminders : IAsyncDisposable
{
    private readonly ActorHost _host;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, Dictionary<string, ReminderRecord>> _byType = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _firings = [];
    private Task? _loop;

    public ActorReminders(ActorHost host, TimeProvider time)
    {
        _host = host;
        _time = time;
    }

    /// <summary>Longest sleep between checks, so a clock jump or a missed wake-up costs at most this much.</summary>
    private static readonly TimeSpan MaxSleep = TimeSpan.FromSeconds(1);

    private IStateStore? Store => _host.StateStore?.Store;

    public string StorageKey(string actorType) => $"{_host.AppId}||dapr-reminders||{actorType}";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (Store is { } store)
        {
            foreach (var type in _host.Config.Types)
            {
                var entry = await store.GetAsync(StorageKey(type), cancellationToken);
                var records = entry is null ? [] : JsonSerializer.Deserialize<List<ReminderRecord>>(entry.Value.Span, ActorJson.Options) ?? [];
                _byType[type] = records.ToDictionary(r => Key(r.ActorId, r.Name), StringComparer.Ordinal);
            }
            var count = _byType.Values.Sum(r => r.Count);
            if (count > 0)
            {
                _host.Sidecar.Logger.LogInformation("App {AppId}: loaded {Count} actor reminders", _host.AppId, count);
            }
        }
        _loop = RunAsync(_stopping.Token);
    }

    /// <exception cref="InvalidOperationException">no actor state store</exception>
    public async Task CreateAsync(string actorType, ReminderRecord record, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var reminders = Reminders(actorType);
            var key = Key(record.ActorId, record.Name);
            var previous = reminders.GetValueOrDefault(key);
            reminders[key] = record;
            try
            {
                await PersistAsync(actorType, cancellationToken);
            }
            catch
            {
                if (previous is null) reminders.Remove(key); else reminders[key] = previous;
                throw;
            }
        }
        finally
        {
            _gate.Release();
        }
        _wake.Release();
    }

    public async Task<ReminderRecord?> GetAsync(string actorType, string actorId, string name, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return Reminders(actorType).GetValueOrDefault(Key(actorId, name));
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task DeleteAsync(string actorType, string actorId, string name, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (Reminders(actorType).Remove(Key(actorId, name), out var removed))
            {
                try
                {
                    await PersistAsync(actorType, cancellationToken);
                }
                catch
                {
                    Reminders(actorType)[Key(actorId, name)] = removed;
                    throw;
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private Dictionary<string, ReminderRecord> Reminders(string actorType)
    {
        if (!_byType.TryGetValue(actorType, out var reminders))
        {
            _byType[actorType] = reminders = new Dictionary<string, ReminderRecord>(StringComparer.Ordinal);
        }
        return reminders;
    }

    private async Task PersistAsync(string actorType, CancellationToken cancellationToken)
    {
        var store = Store ?? throw new InvalidOperationException("actors: state store does not exist or incorrectly configured. Have you set the property 'actorStateStore' in the state store component file?");
        var records = Reminders(actorType).Values.OrderBy(r => r.ActorId, StringComparer.Ordinal).ThenBy(r => r.Name, StringComparer.Ordinal).ToList();
        if (records.Count == 0)
        {
            await store.DeleteAsync(new StateDeleteRequest(StorageKey(actorType)), cancellationToken);
            return;
        }
        await store.SetAsync(new StateSetRequest(StorageKey(actorType), JsonSerializer.SerializeToUtf8Bytes(records, ActorJson.Options)), cancellationToken);
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                var now = _time.GetUtcNow();
                var next = now + MaxSleep;
                await _gate.WaitAsync(stopping);
                try
                {
                    foreach (var (type, reminders) in _byType)
                    {
                        foreach (var record in reminders.Values)
                        {
                            if (record.InFlight)
                            {
                                continue;
                            }
                            if (record.NextDue <= now)
                            {
                                record.InFlight = true;
                                _firings.RemoveAll(t => t.IsCompleted);
                                _firings.Add(FireAsync(type, record, stopping));
                            }
                            else if (record.NextDue < next)
                            {
                                next = record.NextDue;
                            }
                        }
                    }
                }
                finally
                {
                    _gate.Release();
                }
                var sleep = next - _time.GetUtcNow();
                if (sleep > TimeSpan.Zero)
                {
                    await _wake.WaitAsync(sleep, stopping);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private async Task FireAsync(string actorType, ReminderRecord record, CancellationToken stopping)
    {
        var cancel = false;
        var expired = record.ExpiresAt is { } expires && _time.GetUtcNow() >= expires;
        if (!expired)
        {
            try
            {
                var body = Encoding.UTF8.GetBytes(Payload(record));
                var owner = _host.Sidecar.Runtime.ActorPlacement.Lookup(actorType, record.ActorId) ?? _host;
                var result = await owner.InvokeAsync(new ActorCall(actorType, record.ActorId, "method/remind/" + Uri.EscapeDataString(record.Name), body), stopping);
                cancel = string.Equals(result.Header("X-DaprReminderCancel"), "true", StringComparison.OrdinalIgnoreCase);
                if (result.StatusCode != 200)
                {
                    _host.Sidecar.Logger.LogWarning("Reminder {Reminder} of actor {ActorType}/{ActorId} failed: ({Status}) {Body}",
                        record.Name, actorType, record.ActorId, result.StatusCode, Encoding.UTF8.GetString(result.Body));
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is TimeoutException or HttpRequestException or ActorStackDepthException)
            {
                _host.Sidecar.Logger.LogWarning("Reminder {Reminder} of actor {ActorType}/{ActorId} failed: {Error}", record.Name, actorType, record.ActorId, e.Message);
            }
        }

        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            record.InFlight = false;
            var reminders = Reminders(actorType);
            var key = Key(record.ActorId, record.Name);
            if (!ReferenceEquals(reminders.GetValueOrDefault(key), record))
            {
                return; // replaced or deleted while it fired
            }
            var period = ActorTime.TryParsePeriod(record.Period, out var parsed) ? parsed : null;
            if (record.Remaining is { } remaining)
            {
                record.Remaining = remaining - 1;
            }
            var now = _time.GetUtcNow();
            if (expired || cancel || period is null || period.IsZero || record.Remaining <= 0)
            {
                reminders.Remove(key);
            }
            else
            {
                var due = period.Next(record.NextDue);
                // Missed firings (the runtime was down) collapse into the one just delivered.
                while (due <= now)
                {
                    due = period.Next(due);
                }
                record.NextDue = due;
                if (record.ExpiresAt is { } ttl && due > ttl)
                {
                    reminders.Remove(key);
                }
            }
            try
            {
                await PersistAsync(actorType, CancellationToken.None);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _host.Sidecar.Logger.LogWarning("Persisting reminders of {ActorType} failed: {Error}", actorType, e.Message);
            }
        }
        finally
        {
            _gate.Release();
        }
        _wake.Release();
    }

    /// <summary>The body daprd sends to <c>PUT /actors/{type}/{id}/method/remind/{name}</c>.</summary>
    private static string Payload(ReminderRecord record)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WritePropertyName("data");
            if (record.Data is null)
            {
                json.WriteNullValue();
            }
            else
            {
                json.WriteRawValue(record.Data);
            }
            json.WriteString("dueTime", record.DueTime);
            json.WriteString("period", record.Period);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static string FormatInstant(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static string Key(string actorId, string name) => actorId + "||" + name;

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        Task[] firings;
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            firings = [.. _firings];
        }
        finally
        {
            _gate.Release();
        }
        await Task.WhenAll(firings).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
        _gate.Dispose();
        _wake.Dispose();
    }
}
