using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace AgentVerse.ServiceDefaults.Authentication;

/// <summary>
/// The <c>Bearer</c> scheme: authenticates a request by its <c>Authorization: Bearer</c> access token through
/// <see cref="AccessTokenValidator"/>. <c>X-User-ID</c>/<c>X-User-Role</c> headers play no part.
/// </summary>
internal sealed class JwtBearerHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    AccessTokenValidator validator) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Bearer";

    private const string BearerPrefix = "Bearer ";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers[HeaderNames.Authorization].ToString();
        if (!header.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        var token = header[BearerPrefix.Length..].Trim();
        if (token.Length == 0)
        {
            return AuthenticateResult.Fail("Empty bearer token.");
        }

        var (principal, failure) = await validator.ValidateAsync(token, Context.RequestAborted);
        if (principal is null)
        {
            Logger.LogInformation("Bearer token refused for {Method} {Path}: {Reason}", Request.Method, Request.Path, failure);
            return AuthenticateResult.Fail(failure ?? "Invalid token.");
        }

        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        // RFC 6750 §3: a presented but refused token is "invalid_token"; no token at all gets a bare challenge.
        var result = await HandleAuthenticateOnceSafeAsync();
        Response.StatusCode = 401;
        Response.Headers[HeaderNames.WWWAuthenticate] = result.Failure is not null ? "Bearer error=\"invalid_token\"" : "Bearer";
    }
}
