using System.Globalization;
using AgentVerse.ServiceDefaults.Dapr;
using Dapr.Client;
using Microsoft.Extensions.Options;

namespace AgentVerse.Gateway.Accounts;

/// <summary>
/// Users, sessions and refresh tokens in the Dapr state store, keyed by entity (<c>user:{id}</c>,
/// <c>user-email:{email}</c>, <c>session:{id}</c> …). Lists are index keys updated with ETags; nothing scans.
/// </summary>
public sealed class AccountStore(DaprClient dapr, IOptions<GatewayOptions> options)
{
    public const string UsersIndexKey = "users-index";

    private string Store => options.Value.StateStore;

    public static string UserKey(string id) => $"user:{id}";

    public static string EmailKey(string normalizedEmail) => $"user-email:{normalizedEmail}";

    public static string UsernameKey(string username) => $"user-name:{username.Trim().ToLowerInvariant()}";

    public async Task<bool> UsernameExistsAsync(string username, CancellationToken cancellationToken) =>
        await dapr.GetStateAsync<EmailIndexEntry?>(Store, UsernameKey(username), cancellationToken: cancellationToken) is not null;

    public static string SessionKey(string id) => $"session:{id}";

    public static string RefreshTokenKey(string hash) => $"refresh-token:{hash}";

    public static string UserSessionsKey(string userId) => $"user-sessions:{userId}";

    public static string LoginFailuresKey(string normalizedEmail) => $"login-failures:{normalizedEmail}";

    /// <summary>Emails compare case-insensitively: stored and looked up trimmed and lower-cased.</summary>
    public static string NormalizeEmail(string email) => email.Trim().ToLowerInvariant();

    public static IReadOnlyDictionary<string, string> Ttl(TimeSpan lifetime) =>
        new Dictionary<string, string> { ["ttlInSeconds"] = ((long)Math.Ceiling(lifetime.TotalSeconds)).ToString(CultureInfo.InvariantCulture) };

    public DaprClient Dapr => dapr;

    public string StoreName => Store;

    public Task<User?> GetUserAsync(string id, CancellationToken cancellationToken) =>
        dapr.GetStateAsync<User?>(Store, UserKey(id), cancellationToken: cancellationToken);

    public Task<(User? Value, string ETag)> GetUserWithETagAsync(string id, CancellationToken cancellationToken) =>
        dapr.GetStateAndETagAsync<User?>(Store, UserKey(id), cancellationToken: cancellationToken);

    public Task<bool> TrySaveUserAsync(User user, string etag, CancellationToken cancellationToken) =>
        dapr.TrySaveFirstWriteAsync(Store, UserKey(user.Id), user, etag, cancellationToken: cancellationToken);

    public async Task<User?> FindByEmailAsync(string normalizedEmail, CancellationToken cancellationToken)
    {
        var entry = await dapr.GetStateAsync<EmailIndexEntry?>(Store, EmailKey(normalizedEmail), cancellationToken: cancellationToken);
        return entry is null ? null : await GetUserAsync(entry.UserId, cancellationToken);
    }

    public async Task<bool> EmailExistsAsync(string normalizedEmail, CancellationToken cancellationToken) =>
        await dapr.GetStateAsync<EmailIndexEntry?>(Store, EmailKey(normalizedEmail), cancellationToken: cancellationToken) is not null;

    public Task<(UserIndex? Value, string ETag)> GetUserIndexAsync(CancellationToken cancellationToken) =>
        dapr.GetStateAndETagAsync<UserIndex?>(Store, UsersIndexKey, cancellationToken: cancellationToken);

    public async Task<IReadOnlyList<User>> GetUsersAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        var items = await dapr.GetBulkStateOrEmptyAsync<User>(Store, [.. ids.Select(UserKey)], cancellationToken);
        return [.. items.Where(i => i.Value is not null).Select(i => i.Value!)];
    }

    public Task<(Session? Value, string ETag)> GetSessionAsync(string id, CancellationToken cancellationToken) =>
        dapr.GetStateAndETagAsync<Session?>(Store, SessionKey(id), cancellationToken: cancellationToken);

    public Task SaveSessionAsync(Session session, CancellationToken cancellationToken) =>
        dapr.SaveStateAsync(Store, SessionKey(session.Id), session, metadata: Ttl(session.ExpiresAt - DateTimeOffset.UtcNow), cancellationToken: cancellationToken);

    public Task<(RefreshToken? Value, string ETag)> GetRefreshTokenAsync(string hash, CancellationToken cancellationToken) =>
        dapr.GetStateAndETagAsync<RefreshToken?>(Store, RefreshTokenKey(hash), cancellationToken: cancellationToken);

    public Task TransactAsync(IReadOnlyList<StateTransactionRequest> operations, CancellationToken cancellationToken) =>
        dapr.ExecuteStateTransactionAsync(Store, operations, cancellationToken: cancellationToken);

    /// <summary>Adds a session id to its user's list (ETag retry), dropping sessions that have expired.</summary>
    public async Task AddUserSessionAsync(string userId, string sessionId, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var (current, etag) = await dapr.GetStateAndETagAsync<UserSessions?>(Store, UserSessionsKey(userId), cancellationToken: cancellationToken);
            var ids = (current?.Ids ?? []).ToList();
            if (ids.Count >= 50)
            {
                // Keep the list bounded: the oldest sessions have long expired or will be revoked anyway.
                ids.RemoveRange(0, ids.Count - 49);
            }

            ids.Add(sessionId);
            if (await dapr.TrySaveFirstWriteAsync(Store, UserSessionsKey(userId), new UserSessions(ids), etag, cancellationToken: cancellationToken))
            {
                return;
            }
        }

        throw new InvalidOperationException($"Could not record session {sessionId} of user {userId}: too much contention.");
    }

    public async Task<IReadOnlyList<string>> GetUserSessionIdsAsync(string userId, CancellationToken cancellationToken) =>
        (await dapr.GetStateAsync<UserSessions?>(Store, UserSessionsKey(userId), cancellationToken: cancellationToken))?.Ids ?? [];

    public Task<(LoginFailures? Value, string ETag)> GetLoginFailuresAsync(string normalizedEmail, CancellationToken cancellationToken) =>
        dapr.GetStateAndETagAsync<LoginFailures?>(Store, LoginFailuresKey(normalizedEmail), cancellationToken: cancellationToken);

    public Task<bool> TrySaveLoginFailuresAsync(string normalizedEmail, LoginFailures failures, string etag, TimeSpan ttl, CancellationToken cancellationToken) =>
        dapr.TrySaveFirstWriteAsync(Store, LoginFailuresKey(normalizedEmail), failures, etag, Ttl(ttl), cancellationToken);

    public Task DeleteLoginFailuresAsync(string normalizedEmail, CancellationToken cancellationToken) =>
        dapr.DeleteStateAsync(Store, LoginFailuresKey(normalizedEmail), cancellationToken: cancellationToken);
}
