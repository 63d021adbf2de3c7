using AgentVerse.ServiceDefaults.Authentication;
using Microsoft.Extensions.Options;

namespace AgentVerse.Gateway.Tests.Validation;

public sealed class SessionRevocationCacheTests
{
    private readonly ManualTimeProvider _time = new();
    private readonly CountingSource _source = new();
    private readonly SessionRevocationCache _cache;

    public SessionRevocationCacheTests() =>
        _cache = new SessionRevocationCache(_source, Options.Create(new AgentVerseAuthOptions { SessionStatusCacheSeconds = 5 }), _time);

    [Fact]
    public async Task A_session_status_is_asked_once_per_cache_period_and_again_after_it()
    {
        Assert.False(await _cache.IsRevokedAsync("s1", default));
        // Within the first half of the period: past it, a background refresh would ask again (racing the count).
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.False(await _cache.IsRevokedAsync("s1", default));
        Assert.Equal(1, _source.Calls);

        _source.Revoked.Add("s1");
        _time.Advance(TimeSpan.FromSeconds(4));

        // The staleness bound: a revocation whose event was lost is seen once the cache period has passed.
        Assert.True(await _cache.IsRevokedAsync("s1", default));
        Assert.Equal(2, _source.Calls);
    }

    [Fact]
    public async Task A_busy_session_is_refreshed_in_the_background_without_making_requests_wait()
    {
        Assert.False(await _cache.IsRevokedAsync("s1", default));
        _time.Advance(TimeSpan.FromSeconds(3));
        _source.Revoked.Add("s1");
        _source.Gate = new TaskCompletionSource();

        // Past half its life: answers from the cache at once while the lookup is still held up.
        var answer = _cache.IsRevokedAsync("s1", default);
        Assert.True(answer.IsCompleted);
        Assert.False(await answer);

        _source.Gate.SetResult();
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (!await _cache.IsRevokedAsync("s1", default) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.True(await _cache.IsRevokedAsync("s1", default));
        Assert.Equal(2, _source.Calls);
    }

    [Fact]
    public async Task A_revocation_event_applies_at_once_within_the_cache_period()
    {
        Assert.False(await _cache.IsRevokedAsync("s1", default));

        _cache.MarkRevoked("s1");

        Assert.True(await _cache.IsRevokedAsync("s1", default));
        Assert.Equal(1, _source.Calls);
    }

    [Fact]
    public async Task Concurrent_requests_for_one_session_share_one_lookup()
    {
        _source.Gate = new TaskCompletionSource();
        var lookups = Enumerable.Range(0, 20).Select(_ => _cache.IsRevokedAsync("s1", default)).ToList();
        _source.Gate.SetResult();

        Assert.All(await Task.WhenAll(lookups), Assert.False);
        Assert.Equal(1, _source.Calls);
    }

    [Fact]
    public async Task A_failed_lookup_is_not_cached()
    {
        _source.Fail = true;
        await Assert.ThrowsAsync<InvalidOperationException>(() => _cache.IsRevokedAsync("s1", default));

        _source.Fail = false;
        Assert.False(await _cache.IsRevokedAsync("s1", default));
        Assert.Equal(2, _source.Calls);
    }

    private sealed class CountingSource : ISessionStatusSource
    {
        private int _calls;

        public HashSet<string> Revoked { get; } = [];

        public TaskCompletionSource? Gate { get; set; }

        public bool Fail { get; set; }

        public int Calls => _calls;

        public async Task<bool> IsRevokedAsync(string sessionId, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            if (Gate is not null)
            {
                await Gate.Task;
            }

            return Fail ? throw new InvalidOperationException("gateway down") : Revoked.Contains(sessionId);
        }
    }
}
