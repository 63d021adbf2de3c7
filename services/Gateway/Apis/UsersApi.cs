using System.Security.Claims;
using AgentVerse.Gateway.Accounts;
using AgentVerse.Gateway.Protection;
using AgentVerse.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AgentVerse.Gateway.Apis;

/// <summary><c>/api/v1/users</c>: user administration, admins only.</summary>
public static class UsersApi
{
    public static RouteGroupBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/users").WithTags("Users")
            .RequireAuthorization(AgentVersePolicies.Admin)
            .RequireRateLimiting(RateLimitPolicies.PerUser);

        api.MapGet("/", ListAsync);
        api.MapGet("/{id}", GetAsync);
        api.MapPatch("/{id}", UpdateAsync);

        return api;
    }

    public static async Task<Results<Ok<UserPage>, ValidationProblem>> ListAsync(
        AccountStore store, CancellationToken cancellationToken, int page = 1, int pageSize = 20)
    {
        if (page < 1 || pageSize is < 1 or > 100)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["page"] = ["page starts at 1; pageSize is between 1 and 100."],
            });
        }

        var (index, _) = await store.GetUserIndexAsync(cancellationToken);
        var ids = index?.Ids ?? [];
        var users = await store.GetUsersAsync([.. ids.Skip((page - 1) * pageSize).Take(pageSize)], cancellationToken);
        return TypedResults.Ok(new UserPage([.. users.Select(UserResponse.From)], page, pageSize, ids.Count));
    }

    public static async Task<Results<Ok<UserResponse>, NotFound>> GetAsync(string id, AccountStore store, CancellationToken cancellationToken)
    {
        var user = await store.GetUserAsync(id, cancellationToken);
        return user is null ? TypedResults.NotFound() : TypedResults.Ok(UserResponse.From(user));
    }

    /// <summary>Changes role or active state; either change revokes the user's sessions (their tokens carry the old role).</summary>
    public static async Task<Results<Ok<UserResponse>, NotFound, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        string id, UpdateUserRequest request, ClaimsPrincipal caller, AccountStore store, SessionRevoker revoker,
        TimeProvider time, CancellationToken cancellationToken)
    {
        if (request.Role is not null && !AgentVerseRoles.All.Contains(request.Role))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["role"] = [$"role is one of {string.Join(", ", AgentVerseRoles.All)}."],
            });
        }

        if (id == caller.FindFirstValue(AgentVerseClaims.Subject) && (request.IsActive == false || request.Role is not null and not AgentVerseRoles.Admin))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Cannot demote yourself",
                detail: "An admin cannot deactivate or demote their own account; ask another admin.");
        }

        for (var attempt = 0; attempt < 5; attempt++)
        {
            var (user, etag) = await store.GetUserWithETagAsync(id, cancellationToken);
            if (user is null)
            {
                return TypedResults.NotFound();
            }

            var updated = user with
            {
                Role = request.Role ?? user.Role,
                IsActive = request.IsActive ?? user.IsActive,
                UpdatedAt = time.GetUtcNow(),
            };
            if (!await store.TrySaveUserAsync(updated, etag, cancellationToken))
            {
                continue;
            }

            if (updated.Role != user.Role || updated.IsActive != user.IsActive)
            {
                await revoker.RevokeAllAsync(id, updated.IsActive ? "role changed" : "user deactivated", cancellationToken);
            }

            return TypedResults.Ok(UserResponse.From(updated));
        }

        return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Concurrent update", detail: "The user changed meanwhile; retry.");
    }
}
