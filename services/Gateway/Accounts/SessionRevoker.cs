using AgentVerse.ServiceDefaults.Authentication;
using Dapr;
using Microsoft.Extensions.Options;

namespace AgentVerse.Gateway.Accounts;

/// <summary>
/// Revokes sessions: marks <c>session:{id}</c> revoked, so the gateway's status endpoint says so; marks this
/// gateway's cache at once, so the next request with one of its tokens gets 401; and publishes
/// <c>session.revoked</c>, so other services (and other gateway replicas) drop it from their caches.
/// </summary>
public sealed class SessionRevoker(
    AccountStore store,
    SessionRevocationCache cache,
    IOptions<AgentVerseAuthOptions> auth,
    TimeProvider time,
    ILogger<SessionRevoker> logger)
{
    public async Task RevokeAsync(string sessionId, string reason, CancellationToken cancellationToken)
    {
        cache.MarkRevoked(sessionId);
        var (session, _) = await store.GetSessionAsync(sessionId, cancellationToken);
        if (session is not null && !session.Revoked)
        {
            await store.SaveSessionAsync(session with { Revoked = true, RevokedAt = time.GetUtcNow(), RevokedReason = reason }, cancellationToken);
        }

        try
        {
            await store.Dapr.PublishEventAsync(auth.Value.PubSubName, auth.Value.SessionRevokedTopic,
                new SessionRevoked(sessionId, session?.UserId ?? ""), cancellationToken);
        }
        catch (DaprException ex)
        {
            // Services still learn it within their session status cache time.
            logger.LogWarning(ex, "Could not publish the revocation of session {SessionId}", sessionId);
        }

        logger.LogInformation("Revoked session {SessionId} of user {UserId}: {Reason}", sessionId, session?.UserId, reason);
    }

    public async Task RevokeAllAsync(string userId, string reason, CancellationToken cancellationToken)
    {
        foreach (var sessionId in await store.GetUserSessionIdsAsync(userId, cancellationToken))
        {
            await RevokeAsync(sessionId, reason, cancellationToken);
        }
    }
}

/// <summary>The gateway answers session status from its own state, the source of truth.</summary>
internal sealed class GatewaySessionStatusSource(AccountStore store, TimeProvider time) : ISessionStatusSource
{
    public async Task<bool> IsRevokedAsync(string sessionId, CancellationToken cancellationToken)
    {
        var (session, _) = await store.GetSessionAsync(sessionId, cancellationToken);
        return session is null || session.Revoked || session.ExpiresAt <= time.GetUtcNow();
    }
}
