using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace AgentVerse.ServiceDefaults.Authentication;

/// <summary>
/// Session status as seen by this process: asked of <see cref="ISessionStatusSource"/> at most once per
/// <see cref="AgentVerseAuthOptions.SessionStatusCacheSeconds"/> per session (concurrent requests share one lookup),
/// and marked revoked at once when a <c>session.revoked</c> event arrives. A revocation therefore reaches a service
/// as fast as the event does, and never later than the cache time after it, even if the event is lost.
/// An entry past half its life is refreshed in the background while it keeps answering, so a busy session never
/// waits for a lookup (requests would otherwise queue behind one).
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
        var lifetime = TimeSpan.FromSeconds(options.Value.SessionStatusCacheSeconds);
        if (_entries.TryGetValue(sessionId, out var entry) && entry.ExpiresAt > now)
        {
            if (entry.ExpiresAt - now < lifetime / 2 && entry.Status.IsCompletedSuccessfully && !entry.Status.Result)
            {
                RefreshAhead(sessionId, entry, now + lifetime);
            }

            return await entry.Status.WaitAsync(cancellationToken);
        }

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

    /// <summary>Looks the session up again in the background; the current entry answers until the new one is known.</summary>
    private void RefreshAhead(string sessionId, Entry current, DateTimeOffset expiresAt)
    {
        if (Interlocked.Exchange(ref current.Refreshing, 1) == 1)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                var revoked = await LookUpAsync(sessionId);
                // Unless an event marked it revoked meanwhile, the new status replaces the one being refreshed.
                _entries.TryUpdate(sessionId, new Entry(Task.FromResult(revoked), expiresAt), current);
            }
            catch (Exception)
            {
                // The current entry expires as usual and the next request looks the session up itself.
            }
        });
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

    private sealed class Entry(Task<bool> status, DateTimeOffset expiresAt)
    {
        public Task<bool> Status { get; } = status;

        public DateTimeOffset ExpiresAt { get; } = expiresAt;

        public int Refreshing;
    }
}
