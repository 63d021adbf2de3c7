using System.Collections.Concurrent;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentVerse.ServiceDefaults.Authentication;

/// <summary>
/// The JWT bearer handler's token handler: a <see cref="JsonWebTokenHandler"/> that remembers a token whose signature
/// and claims checked out, by its exact text, for up to a minute and never past its expiry, so a client's burst costs
/// one signature check, not one per request. The session is still checked on every request
/// (<see cref="JwtBearerSetup"/>'s token-validated event).
/// </summary>
internal sealed class RememberedTokenHandler(TimeProvider time) : JsonWebTokenHandler
{
    private static readonly TimeSpan RememberFor = TimeSpan.FromMinutes(1);
    private const int RememberAtMost = 10_000;

    private readonly ConcurrentDictionary<string, Remembered> _validated = new(StringComparer.Ordinal);
    private long _fullValidations;

    /// <summary>How many tokens had their signature and claims checked (tests read it).</summary>
    internal long FullValidations => Interlocked.Read(ref _fullValidations);

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        var now = time.GetUtcNow();
        if (_validated.TryGetValue(token, out var known) && known.Until > now)
        {
            return new TokenValidationResult
            {
                IsValid = true,
                ClaimsIdentity = known.Identity.Clone(),
                SecurityToken = known.Token,
                TokenType = known.Token.Typ,
            };
        }

        Interlocked.Increment(ref _fullValidations);
        var result = await base.ValidateTokenAsync(token, validationParameters);
        if (result is { IsValid: true, SecurityToken: JsonWebToken validated, ClaimsIdentity: { } identity })
        {
            if (_validated.Count >= RememberAtMost)
            {
                _validated.Clear();
            }

            // Until its expiry without clock skew, so a remembered token never outlives what a fresh check allows.
            var until = new DateTimeOffset(validated.ValidTo, TimeSpan.Zero) is var expires && expires < now + RememberFor ? expires : now + RememberFor;
            if (until > now)
            {
                _validated[token] = new Remembered(identity.Clone(), validated, until);
            }
        }

        return result;
    }

    private sealed record Remembered(System.Security.Claims.ClaimsIdentity Identity, JsonWebToken Token, DateTimeOffset Until);
}
