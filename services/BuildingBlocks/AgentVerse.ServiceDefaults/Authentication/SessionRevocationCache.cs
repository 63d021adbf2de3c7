using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace AgentVerse.ServiceDefaults.Authentication;

/// <summary>
/// Session status as seen by this process: asked of <see cref="ISessionStatusSource"/> at most once per
/// <see cref="AgentVerseAuthOptions.SessionStatusCacheSeconds"/> per session (concurrent requests share one lookup),
/// and marked revoked at once when a <c>session.revoked</c> event arrives. A revocation therefore reaches a service
/// as fast as the event does, and never later than the cache time after it, even if the event is lost.
/// </summary>
public sealed class SessionRevocationCache(ISessionStatusSource source, IOptions<AgentVerseAuthOptions> options, TimeProvider time)
{
    // Revoked sessions stay revoked; remembering them for longer than any access token lives is enough.
    private static readonly TimeSpan RevokedRetention = TimeSpan.FromHours(2);
    private const int CompactAbove = 50_000;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>True when the session is revoked (or unknown, or expired at the gateway).</summary>
    public async Task<bool> IsRevokedAsync(string sessionId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(sessionId);
        var now = time.GetUtcNow();
        if (_entries.TryGetValue(sessionId, out var entry) && entry.ExpiresAt > now)
        {
            return await entry.Status.WaitAsync(cancellationToken);
        }

        var lifetime = TimeSpan.FromSeconds(options.Value.SessionStatusCacheSeconds);
        var fresh = new Entry(LookUpAsync(sessionId), now + lifetime);
        var winner = _entries.AddOrUpdate(sessionId, fresh, (_, existing) => existing.ExpiresAt > now ? existing : fresh);
        if (_entries.Count > CompactAbove)
        {
            Compact(now);
        }

        try
        {
            var revoked = await winner.Status.WaitAsync(cancellationToken);
            if (revoked)
            {
                MarkRevoked(sessionId);
            }

            return revoked;
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Do not cache a failure: the next request asks again.
            _entries.TryRemove(new KeyValuePair<string, Entry>(sessionId, winner));
            throw;
        }
    }

    /// <summary>Marks a session revoked, as the <c>session.revoked</c> event (or the gateway's own logout) says.</summary>
    public void MarkRevoked(string sessionId)
    {
        ArgumentException.ThrowIfNullOrEmpty(sessionId);
        _entries[sessionId] = new Entry(Task.FromResult(true), time.GetUtcNow() + RevokedRetention);
    }

    private async Task<bool> LookUpAsync(string sessionId)
    {
        // Not tied to one request's token: other requests may be waiting on the same lookup.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        return await source.IsRevokedAsync(sessionId, timeout.Token);
    }

    private void Compact(DateTimeOffset now)
    {
        foreach (var (key, value) in _entries)
        {
            if (value.ExpiresAt <= now)
            {
                _entries.TryRemove(new KeyValuePair<string, Entry>(key, value));
            }
        }
    }

    private sealed record Entry(Task<bool> Status, DateTimeOffset ExpiresAt);
}
