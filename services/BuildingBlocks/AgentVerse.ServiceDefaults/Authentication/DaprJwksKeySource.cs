using System.Net.Http.Json;
using AgentVerse.ServiceDefaults.Dapr;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace AgentVerse.ServiceDefaults.Authentication;

/// <summary>
/// The gateway's JSON Web Key Set, fetched by Dapr service invocation (<c>gateway</c>,
/// <c>.well-known/jwks.json</c>) and cached: refreshed after <see cref="AgentVerseAuthOptions.JwksRefreshSeconds"/>,
/// or early when a token names an unknown <c>kid</c>, at most once per <see cref="AgentVerseAuthOptions.JwksMinRefreshSeconds"/>.
/// A failed fetch keeps the last good keys.
/// </summary>
internal sealed class DaprJwksKeySource(
    IHttpClientFactory http,
    IOptions<AgentVerseAuthOptions> options,
    TimeProvider time,
    ILogger<DaprJwksKeySource> logger) : ITokenKeySource, IDisposable
{
    private static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(10);

    private readonly SemaphoreSlim _fetch = new(1, 1);
    private volatile Snapshot _snapshot = new([], DateTimeOffset.MinValue);

    public async ValueTask<IReadOnlyList<SecurityKey>> GetKeysAsync(string? keyId, CancellationToken cancellationToken)
    {
        var snapshot = _snapshot;
        var now = time.GetUtcNow();
        if (!NeedsFetch(snapshot, keyId, now))
        {
            return snapshot.Keys;
        }

        await _fetch.WaitAsync(cancellationToken);
        try
        {
            // Another caller may have fetched while this one waited.
            snapshot = _snapshot;
            if (!NeedsFetch(snapshot, keyId, time.GetUtcNow()))
            {
                return snapshot.Keys;
            }

            try
            {
                using var client = http.CreateClient(DaprInvocation.HttpClientName);
                client.Timeout = FetchTimeout;
                var json = await client.GetFromJsonAsync<System.Text.Json.JsonElement>(
                    DaprInvocation.AppUri(options.Value.JwksAppId, options.Value.JwksPath), cancellationToken);
                var keys = new JsonWebKeySet(json.GetRawText()).GetSigningKeys();
                _snapshot = new Snapshot([.. keys], time.GetUtcNow());
                logger.LogInformation("Fetched {KeyCount} signing keys from {AppId}", keys.Count, options.Value.JwksAppId);
            }
            catch (Exception ex) when (ex is System.Text.Json.JsonException or ArgumentException or HttpRequestException
                or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // Keep what we had; mark the attempt so a burst of tokens does not retry on every request.
                logger.LogWarning(ex, "Cannot fetch the signing keys from {AppId}", options.Value.JwksAppId);
                _snapshot = snapshot with { FetchedAt = FailedAttemptTime(snapshot, time.GetUtcNow()) };
            }

            return _snapshot.Keys;
        }
        finally
        {
            _fetch.Release();
        }
    }

    public void Dispose() => _fetch.Dispose();

    private bool NeedsFetch(Snapshot snapshot, string? keyId, DateTimeOffset now)
    {
        var age = now - snapshot.FetchedAt;
        if (age >= TimeSpan.FromSeconds(options.Value.JwksRefreshSeconds))
        {
            return true;
        }

        var known = keyId is null || snapshot.Keys.Any(k => string.Equals(k.KeyId, keyId, StringComparison.Ordinal));
        return !known && age >= TimeSpan.FromSeconds(options.Value.JwksMinRefreshSeconds);
    }

    /// <summary>
    /// After a failure, retry no sooner than the unknown-kid interval; with no keys at all that is the next request
    /// after <see cref="AgentVerseAuthOptions.JwksMinRefreshSeconds"/>.
    /// </summary>
    private DateTimeOffset FailedAttemptTime(Snapshot snapshot, DateTimeOffset now) =>
        snapshot.Keys.Count == 0
            ? now - TimeSpan.FromSeconds(options.Value.JwksRefreshSeconds) + TimeSpan.FromSeconds(options.Value.JwksMinRefreshSeconds)
            : now;

    private sealed record Snapshot(IReadOnlyList<SecurityKey> Keys, DateTimeOffset FetchedAt);
}
