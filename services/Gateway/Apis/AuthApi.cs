using System.Globalization;
using System.Security.Claims;
using AgentVerse.Gateway.Accounts;
using AgentVerse.Gateway.Protection;
using AgentVerse.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AgentVerse.Gateway.Apis;

/// <summary><c>/api/auth/*</c>: register, login, refresh, logout, me. Limited per client IP.</summary>
public static class AuthApi
{
    public static RouteGroupBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/auth").WithTags("Auth").RequireRateLimiting(RateLimitPolicies.PerIp);

        api.MapPost("/register", RegisterAsync).AllowAnonymous();
        api.MapPost("/login", LoginAsync).AllowAnonymous();
        api.MapPost("/refresh", RefreshAsync).AllowAnonymous();
        api.MapPost("/logout", LogoutAsync).RequireAuthorization(AgentVersePolicies.Authenticated);
        api.MapGet("/me", MeAsync).RequireAuthorization(AgentVersePolicies.Authenticated);

        return api;
    }

    public static async Task<Results<Created<UserResponse>, ValidationProblem, ProblemHttpResult>> RegisterAsync(
        RegisterRequest request, AccountService accounts, CancellationToken cancellationToken)
    {
        var outcome = await accounts.RegisterAsync(request, cancellationToken);
        if (outcome.Errors is { } errors)
        {
            return TypedResults.ValidationProblem(errors);
        }

        if (outcome.Conflict is not null || outcome.User is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Already registered",
                detail: $"An account with this {outcome.Conflict ?? "email"} already exists.");
        }

        return TypedResults.Created($"/api/v1/users/{outcome.User.Id}", UserResponse.From(outcome.User));
    }

    /// <summary>
    /// 401 for a wrong email or password alike; 429 with <c>Retry-After</c> while the email is locked after
    /// repeated failures (429 rather than 423: clients and proxies already honour Retry-After on 429).
    /// </summary>
    public static async Task<Results<Ok<LoginResponse>, ProblemHttpResult>> LoginAsync(
        LoginRequest request, AccountService accounts, HttpContext context, CancellationToken cancellationToken)
    {
        var outcome = await accounts.LoginAsync(request, cancellationToken);
        if (outcome.Response is { } response)
        {
            return TypedResults.Ok(response);
        }

        if (outcome.LockedFor is { } lockedFor)
        {
            var seconds = (int)Math.Ceiling(lockedFor.TotalSeconds);
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Account temporarily locked",
                detail: $"Too many failed logins. Try again in {seconds} seconds.");
        }

        return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Invalid credentials",
            detail: "The email or password is incorrect.");
    }

    public static async Task<Results<Ok<LoginResponse>, ProblemHttpResult>> RefreshAsync(
        RefreshRequest request, AccountService accounts, CancellationToken cancellationToken)
    {
        var response = await accounts.RefreshAsync(request.RefreshToken, cancellationToken);
        return response is null
            ? TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Invalid refresh token",
                detail: "The refresh token is unknown, expired, revoked or already used.")
            : TypedResults.Ok(response);
    }

    public static async Task<Ok<LogoutResponse>> LogoutAsync(ClaimsPrincipal user, SessionRevoker revoker, CancellationToken cancellationToken)
    {
        var sessionId = user.FindFirstValue(AgentVerseClaims.SessionId)!;
        await revoker.RevokeAsync(sessionId, "logout", cancellationToken);
        return TypedResults.Ok(new LogoutResponse(true, "Logged out; the session's tokens are revoked."));
    }

    public static async Task<Results<Ok<UserResponse>, NotFound>> MeAsync(ClaimsPrincipal user, AccountStore store, CancellationToken cancellationToken)
    {
        var found = await store.GetUserAsync(user.FindFirstValue(AgentVerseClaims.Subject)!, cancellationToken);
        return found is null ? TypedResults.NotFound() : TypedResults.Ok(UserResponse.From(found));
    }
}
