using Microsoft.IdentityModel.Tokens;

namespace AgentVerse.ServiceDefaults.Authentication;

/// <summary>
/// The public keys access tokens may be signed with. Services fetch them from the gateway's JWKS through Dapr
/// (<see cref="DaprJwksKeySource"/>); the gateway replaces this with its own keys.
/// </summary>
public interface ITokenKeySource
{
    /// <summary>
    /// The current keys. When <paramref name="keyId"/> is not among them the source may refresh (rate-limited),
    /// so a key rotated in at the gateway is picked up by the first token that uses it.
    /// </summary>
    ValueTask<IReadOnlyList<SecurityKey>> GetKeysAsync(string? keyId, CancellationToken cancellationToken);
}

/// <summary>
/// Whether a session has been revoked. Services ask the gateway through Dapr (<see cref="DaprSessionStatusSource"/>);
/// the gateway replaces this with a read of its own state.
/// </summary>
public interface ISessionStatusSource
{
    /// <summary>True when the session is revoked, expired or unknown.</summary>
    Task<bool> IsRevokedAsync(string sessionId, CancellationToken cancellationToken);
}
