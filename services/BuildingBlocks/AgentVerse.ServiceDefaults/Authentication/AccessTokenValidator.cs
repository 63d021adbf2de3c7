using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentVerse.ServiceDefaults.Authentication;

/// <summary>
/// Validates an AgentVerse access token by itself: ES256 only, issuer, audience, lifetime with a skew of at most
/// 30 s, header <c>typ</c> <c>at+jwt</c>, a signing key from the gateway's key set chosen by <c>kid</c> (no trying
/// every key), and a session that is not revoked.
/// </summary>
/// <remarks>
/// A token whose signature and claims checked out is remembered for up to a minute (never past its expiry), so a
/// client's burst costs one signature check, not one per request. The session is still checked on every request.
/// </remarks>
public sealed class AccessTokenValidator(
    ITokenKeySource keys,
    SessionRevocationCache sessions,
    IOptions<AgentVerseAuthOptions> options,
    TimeProvider time)
{
    private static readonly TimeSpan RememberFor = TimeSpan.FromMinutes(1);
    private const int RememberAtMost = 10_000;

    private readonly ConcurrentDictionary<string, Validated> _validated = new(StringComparer.Ordinal);

    /// <summary>The only signing algorithm accepted.</summary>
    public const string Algorithm = SecurityAlgorithms.EcdsaSha256;

    /// <summary>The JWT header <c>typ</c> of an access token (RFC 9068).</summary>
    public const string TokenType = "at+jwt";

    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    /// <summary>The authenticated principal, or null with the reason the token was refused.</summary>
    public async Task<(ClaimsPrincipal? Principal, string? Failure)> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_validated.TryGetValue(token, out var known) && known.Until > now)
        {
            return await CheckSessionAsync(known.Identity, known.SessionId, cancellationToken);
        }

        var (identity, sessionId, failure) = await ValidateSignatureAndClaimsAsync(token, cancellationToken);
        if (identity is null)
        {
            return (null, failure);
        }

        if (_validated.Count >= RememberAtMost)
        {
            _validated.Clear();
        }

        var expires = identity.FindFirst("exp")?.Value is { } exp && long.TryParse(exp, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : now;
        var until = expires < now + RememberFor ? expires : now + RememberFor;
        if (until > now)
        {
            _validated[token] = new Validated(identity, sessionId!, until);
        }

        return await CheckSessionAsync(identity, sessionId!, cancellationToken);
    }

    private async Task<(ClaimsIdentity? Identity, string? SessionId, string? Failure)> ValidateSignatureAndClaimsAsync(string token, CancellationToken cancellationToken)
    {
        if (!_handler.CanReadToken(token))
        {
            return (null, null, "The token is not a JWT.");
        }

        string? keyId;
        try
        {
            keyId = new JsonWebToken(token).Kid;
        }
        catch (ArgumentException)
        {
            return (null, null, "The token is not a JWT.");
        }

        if (string.IsNullOrEmpty(keyId))
        {
            return (null, null, "The token names no signing key.");
        }

        var signingKeys = await keys.GetKeysAsync(keyId, cancellationToken);
        var settings = options.Value;
        var parameters = new TokenValidationParameters
        {
            ValidAlgorithms = [Algorithm],
            ValidTypes = [TokenType],
            ValidIssuer = settings.Issuer,
            ValidAudience = settings.Audience,
            ClockSkew = TimeSpan.FromSeconds(settings.ClockSkewSeconds),
            IssuerSigningKeys = signingKeys,
            TryAllIssuerSigningKeys = false,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateIssuerSigningKey = true,
            ValidateLifetime = true,
            NameClaimType = AgentVerseClaims.Subject,
            RoleClaimType = AgentVerseClaims.Role,
            AuthenticationType = "Bearer",
        };

        var result = await _handler.ValidateTokenAsync(token, parameters);
        if (!result.IsValid)
        {
            return (null, null, result.Exception?.Message ?? "The token is invalid.");
        }

        var identity = result.ClaimsIdentity;
        var sessionId = identity.FindFirst(AgentVerseClaims.SessionId)?.Value;
        var role = identity.FindFirst(AgentVerseClaims.Role)?.Value;
        if (string.IsNullOrEmpty(identity.FindFirst(AgentVerseClaims.Subject)?.Value) || string.IsNullOrEmpty(sessionId)
            || role is null || !AgentVerseRoles.All.Contains(role))
        {
            return (null, null, "The token lacks sub, sid or a known role.");
        }

        return (identity, sessionId, null);
    }

    private async Task<(ClaimsPrincipal? Principal, string? Failure)> CheckSessionAsync(ClaimsIdentity identity, string sessionId, CancellationToken cancellationToken)
    {
        bool revoked;
        try
        {
            revoked = await sessions.IsRevokedAsync(sessionId, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Fail closed: a session whose status cannot be learned is not trusted.
            return (null, $"The session status could not be checked: {ex.Message}");
        }

        return revoked ? (null, "The session has been revoked.") : (new ClaimsPrincipal(identity), null);
    }

    private sealed record Validated(ClaimsIdentity Identity, string SessionId, DateTimeOffset Until);
}
