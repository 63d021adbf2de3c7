using System.Security.Claims;
using AgentVerse.Gateway.Accounts;
using AgentVerse.ServiceDefaults.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentVerse.Gateway.Tokens;

/// <summary>Issues ES256 access tokens (RFC 9068 <c>at+jwt</c>) bound to a server-side session.</summary>
public sealed class TokenIssuer(
    SigningKeyStore keys,
    IOptions<GatewayOptions> gateway,
    IOptions<AgentVerseAuthOptions> auth,
    TimeProvider time)
{
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    public async Task<(string Token, DateTimeOffset ExpiresAt)> IssueAccessTokenAsync(User user, string sessionId, CancellationToken cancellationToken)
    {
        var signing = await keys.GetAsync(cancellationToken);
        var now = time.GetUtcNow();
        var expires = now.AddMinutes(gateway.Value.AccessTokenMinutes);
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = auth.Value.Issuer,
            Audience = auth.Value.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            TokenType = AccessTokens.TokenType,
            SigningCredentials = new SigningCredentials(signing.Current.SecurityKey, AccessTokens.Algorithm),
            Claims = new Dictionary<string, object>
            {
                [AgentVerseClaims.Subject] = user.Id,
                [AgentVerseClaims.Role] = user.Role,
                [AgentVerseClaims.SessionId] = sessionId,
                [AgentVerseClaims.TokenId] = Guid.NewGuid().ToString("N"),
                [AgentVerseClaims.Email] = user.Email,
            },
        };

        return (_handler.CreateToken(descriptor), expires);
    }
}

/// <summary>The gateway validates tokens against its own keys, current and previous, without a round trip.</summary>
internal sealed class GatewayTokenKeySource(SigningKeyStore keys) : ITokenKeySource
{
    private (SigningKeys Signing, IReadOnlyList<SecurityKey> Keys)? _last;

    public async ValueTask<IReadOnlyList<SecurityKey>> GetKeysAsync(string? keyId, CancellationToken cancellationToken)
    {
        var signing = await keys.GetAsync(cancellationToken);
        // The same list while the keys stay the same, so the bearer handler's configuration is built once.
        if (_last is not { } last || !ReferenceEquals(last.Signing, signing))
        {
            last = (signing, [.. signing.All.Select(k => (SecurityKey)k.SecurityKey)]);
            _last = last;
        }

        return last.Keys;
    }
}
