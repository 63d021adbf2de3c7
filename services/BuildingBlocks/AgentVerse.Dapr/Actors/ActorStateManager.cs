using System.Text.Json;

namespace AgentVerse.Dapr.Actors;

/// <summary>A value that may be absent.</summary>
public readonly record struct ConditionalValue<T>(bool HasValue, T Value);

/// <summary>
/// An actor's state: read lazily from the sidecar, cached for the activation, and written with one
/// actor state transaction at the end of each successful turn. A turn that throws drops its changes.
/// </summary>
public interface IActorStateManager
{
    /// <summary>The value, or <c>HasValue = false</c> when the key has none.</summary>
    Task<ConditionalValue<T>> TryGetStateAsync<T>(string stateName, CancellationToken cancellationToken = default);

    /// <summary>The value; <see cref="KeyNotFoundException"/> when the key has none.</summary>
    Task<T> GetStateAsync<T>(string stateName, CancellationToken cancellationToken = default);

    /// <summary>The value, or <paramref name="value"/> after setting it when the key has none.</summary>
    Task<T> GetOrAddStateAsync<T>(string stateName, T value, CancellationToken cancellationToken = default);

    /// <summary>Sets the value (saved at the end of the turn).</summary>
    Task SetStateAsync<T>(string stateName, T value, CancellationToken cancellationToken = default);

    /// <summary>Removes the value (at the end of the turn); false when there was none.</summary>
    Task<bool> TryRemoveStateAsync(string stateName, CancellationToken cancellationToken = default);

    /// <summary>Whether the key has a value, counting this turn's changes.</summary>
    Task<bool> ContainsStateAsync(string stateName, CancellationToken cancellationToken = default);

    /// <summary>Writes pending changes now (the runtime also does it at the end of each successful turn).</summary>
    Task SaveStateAsync(CancellationToken cancellationToken = default);

    /// <summary>Forgets the cache and any pending changes.</summary>
    Task ClearCacheAsync(CancellationToken cancellationToken = default);
}

internal sealed class ActorStateManager(ActorHost host) : IActorStateManager
{
    private readonly Dictionary<string, Entry> _cache = new(StringComparer.Ordinal);

    public async Task<ConditionalValue<T>> TryGetStateAsync<T>(string stateName, CancellationToken cancellationToken = default)
    {
        var entry = await LoadAsync(stateName, cancellationToken);
        return entry.Json is { } json ? new ConditionalValue<T>(true, json.Deserialize<T>(host.JsonSerializerOptions)!) : default;
    }

    public async Task<T> GetStateAsync<T>(string stateName, CancellationToken cancellationToken = default)
    {
        var value = await TryGetStateAsync<T>(stateName, cancellationToken);
        return value.HasValue ? value.Value : throw new KeyNotFoundException($"actor {host.ActorTypeName}/{host.Id} has no state named '{stateName}'");
    }

    public async Task<T> GetOrAddStateAsync<T>(string stateName, T value, CancellationToken cancellationToken = default)
    {
        var existing = await TryGetStateAsync<T>(stateName, cancellationToken);
        if (existing.HasValue)
        {
            return existing.Value;
        }
        await SetStateAsync(stateName, value, cancellationToken);
        return value;
    }

    public Task SetStateAsync<T>(string stateName, T value, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(stateName);
        _cache[stateName] = new Entry(JsonSerializer.SerializeToElement(value, host.JsonSerializerOptions), Dirty: true);
        return Task.CompletedTask;
    }

    public async Task<bool> TryRemoveStateAsync(string stateName, CancellationToken cancellationToken = default)
    {
        var entry = await LoadAsync(stateName, cancellationToken);
        if (entry.Json is null)
        {
            return false;
        }
        _cache[stateName] = new Entry(null, Dirty: true);
        return true;
    }

    public async Task<bool> ContainsStateAsync(string stateName, CancellationToken cancellationToken = default) =>
        (await LoadAsync(stateName, cancellationToken)).Json is not null;

    public async Task SaveStateAsync(CancellationToken cancellationToken = default)
    {
        var changes = _cache.Where(e => e.Value.Dirty).Select(e => (e.Key, e.Value.Json)).ToList();
        if (changes.Count == 0)
        {
            return;
        }
        await host.Sidecar.SaveStateAsync(host.ActorTypeName, host.Id.Id, changes, cancellationToken);
        foreach (var (key, json) in changes)
        {
            _cache[key] = new Entry(json, Dirty: false);
        }
    }

    public Task ClearCacheAsync(CancellationToken cancellationToken = default)
    {
        _cache.Clear();
        return Task.CompletedTask;
    }

    private async Task<Entry> LoadAsync(string stateName, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(stateName);
        if (_cache.TryGetValue(stateName, out var cached))
        {
            return cached;
        }
        var stored = await host.Sidecar.GetStateAsync(host.ActorTypeName, host.Id.Id, stateName, cancellationToken);
        JsonElement? json = null;
        if (stored is not null)
        {
            using var document = JsonDocument.Parse(stored);
            json = document.RootElement.Clone();
        }
        var entry = new Entry(json, Dirty: false);
        _cache[stateName] = entry;
        return entry;
    }

    /// <summary>A cached value (null = absent) and whether this turn changed it.</summary>
    private sealed record Entry(JsonElement? Json, bool Dirty);
}
