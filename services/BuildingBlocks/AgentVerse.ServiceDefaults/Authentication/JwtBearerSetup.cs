using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentVerse.ServiceDefaults.Authentication;

/// <summary>
/// The ASP.NET Core JWT bearer handler set up for AgentVerse access tokens: ES256 only, <c>typ</c> <c>at+jwt</c>,
/// issuer, audience and lifetime with a skew of at most 30 s, a signing key from the gateway's key set chosen by
/// <c>kid</c> (an unknown kid is fetched before validation, rate-limited), <c>sub</c>, <c>sid</c> and a known role
/// required, and a session that is not revoked, checked on every request. <c>X-User-ID</c>/<c>X-User-Role</c>
/// headers play no part.
/// </summary>
internal sealed class JwtBearerSetup(
    IOptions<AgentVerseAuthOptions> auth,
    ITokenKeySource keys,
    SessionRevocationCache sessions,
    RememberedTokenHandler tokenHandler,
    ILoggerFactory loggerFactory) : IConfigureNamedOptions<JwtBearerOptions>
{
    private const string BearerPrefix = "Bearer ";

    private readonly ILogger _logger = loggerFactory.CreateLogger("AgentVerse.ServiceDefaults.Authentication.Bearer");

    public void Configure(JwtBearerOptions options) => Configure(JwtBearerDefaults.AuthenticationScheme, options);

    public void Configure(string? name, JwtBearerOptions options)
    {
        if (name != JwtBearerDefaults.AuthenticationScheme)
        {
            return;
        }

        var settings = auth.Value;
        options.MapInboundClaims = false;
        // RFC 6750 §3: a refused token gets error="invalid_token" (set in OnChallenge), without the validator's reasons.
        options.IncludeErrorDetails = false;
        options.RequireHttpsMetadata = false;
        options.ConfigurationManager = new KeySourceConfigurationManager(keys);
        options.TokenHandlers.Clear();
        options.TokenHandlers.Add(tokenHandler);
        options.TokenValidationParameters = new TokenValidationParameters
        {
            ValidAlgorithms = [AccessTokens.Algorithm],
            ValidTypes = [AccessTokens.TokenType],
            ValidIssuer = settings.Issuer,
            ValidAudience = settings.Audience,
            ClockSkew = TimeSpan.FromSeconds(settings.ClockSkewSeconds),
            TryAllIssuerSigningKeys = false,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateIssuerSigningKey = true,
            ValidateLifetime = true,
            NameClaimType = AgentVerseClaims.Subject,
            RoleClaimType = AgentVerseClaims.Role,
            AuthenticationType = JwtBearerDefaults.AuthenticationScheme,
        };
        options.Events = new JwtBearerEvents
        {
            OnMessageReceived = MessageReceivedAsync,
            OnTokenValidated = TokenValidatedAsync,
            OnAuthenticationFailed = context =>
            {
                _logger.LogInformation("Bearer token refused for {Method} {Path}: {Reason}", context.Request.Method, context.Request.Path, context.Exception.Message);
                return Task.CompletedTask;
            },
            OnChallenge = context =>
            {
                if (context.AuthenticateFailure is not null)
                {
                    context.Error = "invalid_token";
                }

                return Task.CompletedTask;
            },
        };
    }

    /// <summary>Takes the bearer token and makes sure the key it names is known, fetching the key set if not.</summary>
    private async Task MessageReceivedAsync(MessageReceivedContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            context.NoResult();
            return;
        }

        var token = header[BearerPrefix.Length..].Trim();
        if (token.Length == 0)
        {
            context.Fail("Empty bearer token.");
            return;
        }

        context.Token = token;
        string? keyId;
        try
        {
            keyId = new JsonWebToken(token).Kid;
        }
        catch (ArgumentException)
        {
            return; // not a JWT: validation says so
        }

        if (!string.IsNullOrEmpty(keyId))
        {
            await keys.GetKeysAsync(keyId, context.HttpContext.RequestAborted);
        }
    }

    /// <summary>The claims every access token carries, and its session, which must not be revoked.</summary>
    private async Task TokenValidatedAsync(TokenValidatedContext context)
    {
        var principal = context.Principal!;
        var sessionId = principal.FindFirst(AgentVerseClaims.SessionId)?.Value;
        var role = principal.FindFirst(AgentVerseClaims.Role)?.Value;
        if (string.IsNullOrEmpty(principal.FindFirst(AgentVerseClaims.Subject)?.Value) || string.IsNullOrEmpty(sessionId)
            || role is null || !AgentVerseRoles.All.Contains(role))
        {
            Refuse(context, "The token lacks sub, sid or a known role.");
            return;
        }

        try
        {
            if (await sessions.IsRevokedAsync(sessionId, context.HttpContext.RequestAborted))
            {
                Refuse(context, "The session has been revoked.");
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !context.HttpContext.RequestAborted.IsCancellationRequested)
        {
            // Fail closed: a session whose status cannot be learned is not trusted.
            Refuse(context, $"The session status could not be checked: {ex.Message}");
        }
    }

    private void Refuse(TokenValidatedContext context, string reason)
    {
        _logger.LogInformation("Bearer token refused for {Method} {Path}: {Reason}", context.Request.Method, context.Request.Path, reason);
        context.Fail(reason);
    }
}
