using System.Security.Claims;
using System.Security.Cryptography;
using AgentVerse.ServiceDefaults.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentVerse.Gateway.Tests.Validation;

/// <summary>
/// The validator remembers a token whose signature and claims checked out (up to a minute, never past its expiry),
/// so repeated requests skip the signature check; the session is still checked on every request.
/// </summary>
public sealed class AccessTokenValidatorTests : IDisposable
{
    private const string SessionId = "session-1";

    private readonly ECDsa _signing = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsaSecurityKey _key;
    private readonly CountingKeys _keys;
    private readonly ClockFromNow _time = new();
    private readonly SessionRevocationCache _sessions;
    private readonly AccessTokenValidator _validator;

    public AccessTokenValidatorTests()
    {
        _key = new ECDsaSecurityKey(_signing) { KeyId = "k1" };
        _keys = new CountingKeys(_key);
        // No clock skew, so a token is expired exactly at its exp.
        var options = Options.Create(new AgentVerseAuthOptions { ClockSkewSeconds = 0 });
        _sessions = new SessionRevocationCache(new NoSessionRevoked(), options, _time);
        _validator = new AccessTokenValidator(_keys, _sessions, options, _time);
    }

    public void Dispose() => _signing.Dispose();

    [Fact]
    public async Task A_valid_token_has_its_signature_checked_once_then_is_remembered()
    {
        var token = Mint(TimeSpan.FromMinutes(15));

        var first = await _validator.ValidateAsync(token, default);
        var second = await _validator.ValidateAsync(token, default);

        Assert.Equal("user-1", first.Principal?.FindFirstValue(AgentVerseClaims.Subject));
        Assert.Equal("user-1", second.Principal?.FindFirstValue(AgentVerseClaims.Subject));
        Assert.Equal(1, _keys.Calls);
    }

    [Fact]
    public async Task A_remembered_token_of_a_revoked_session_is_refused()
    {
        var token = Mint(TimeSpan.FromMinutes(15));
        Assert.NotNull((await _validator.ValidateAsync(token, default)).Principal);

        _sessions.MarkRevoked(SessionId);
        var (principal, failure) = await _validator.ValidateAsync(token, default);

        Assert.Null(principal);
        Assert.Contains("revoked", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_remembered_token_is_refused_once_it_has_expired()
    {
        // On the real clock, which the signature and lifetime check uses too; the token expires well within the
        // minute a token is remembered for.
        var options = Options.Create(new AgentVerseAuthOptions { ClockSkewSeconds = 0 });
        var validator = new AccessTokenValidator(_keys, new SessionRevocationCache(new NoSessionRevoked(), options, TimeProvider.System), options, TimeProvider.System);
        var token = Mint(TimeSpan.FromSeconds(2), TimeProvider.System);
        Assert.NotNull((await validator.ValidateAsync(token, default)).Principal);

        var expires = DateTimeOffset.FromUnixTimeSeconds(new JsonWebToken(token).GetPayloadValue<long>("exp"));
        var untilExpired = expires - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(100);
        if (untilExpired > TimeSpan.Zero)
        {
            await Task.Delay(untilExpired); // a slow first validation may already have used up the two seconds
        }
        var (principal, failure) = await validator.ValidateAsync(token, default);

        Assert.Null(principal);
        Assert.Contains("IDX10223", failure, StringComparison.Ordinal); // lifetime validation failed: expired
    }

    [Fact]
    public async Task A_token_is_remembered_by_its_exact_text_so_a_tampered_copy_is_checked_and_refused()
    {
        var token = Mint(TimeSpan.FromMinutes(15));
        Assert.NotNull((await _validator.ValidateAsync(token, default)).Principal);

        // Same header and claims, another signature.
        var tampered = token[..(token.LastIndexOf('.') + 1)] + Base64UrlEncoder.Encode(new byte[64]);
        var (principal, _) = await _validator.ValidateAsync(tampered, default);

        Assert.Null(principal);
        Assert.Equal(2, _keys.Calls);
    }

    [Fact]
    public async Task A_remembered_token_is_checked_again_after_a_minute()
    {
        var token = Mint(TimeSpan.FromMinutes(15));
        Assert.NotNull((await _validator.ValidateAsync(token, default)).Principal);

        _time.Advance(TimeSpan.FromSeconds(61));
        Assert.NotNull((await _validator.ValidateAsync(token, default)).Principal);

        Assert.Equal(2, _keys.Calls);
    }

    private string Mint(TimeSpan lifetime, TimeProvider? clock = null)
    {
        var now = (clock ?? _time).GetUtcNow().UtcDateTime;
        var defaults = new AgentVerseAuthOptions();
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = defaults.Issuer,
            Audience = defaults.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            TokenType = AccessTokenValidator.TokenType,
            SigningCredentials = new SigningCredentials(_key, AccessTokenValidator.Algorithm),
            Claims = new Dictionary<string, object>
            {
                [AgentVerseClaims.Subject] = "user-1",
                [AgentVerseClaims.SessionId] = SessionId,
                [AgentVerseClaims.Role] = AgentVerseRoles.User,
            },
        });
    }

    /// <summary>Starts at the real time (tokens carry real timestamps) and moves only when told.</summary>
    private sealed class ClockFromNow : TimeProvider
    {
        private DateTimeOffset _now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }

    private sealed class CountingKeys(SecurityKey key) : ITokenKeySource
    {
        private int _calls;

        public int Calls => _calls;

        public ValueTask<IReadOnlyList<SecurityKey>> GetKeysAsync(string? keyId, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            return ValueTask.FromResult<IReadOnlyList<SecurityKey>>([key]);
        }
    }

    private sealed class NoSessionRevoked : ISessionStatusSource
    {
        public Task<bool> IsRevokedAsync(string sessionId, CancellationToken cancellationToken) => Task.FromResult(false);
    }
}
