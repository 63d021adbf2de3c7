using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace AgentVerse.ServiceDefaults.Authentication;

/// <summary>Viewers may only read: any method other than GET, HEAD or OPTIONS is refused for them.</summary>
internal sealed class ViewerReadOnlyRequirement : AuthorizationHandler<ViewerReadOnlyRequirement>, IAuthorizationRequirement
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ViewerReadOnlyRequirement requirement)
    {
        var method = HttpMethodOf(context.Resource);
        if (!context.User.IsInRole(AgentVerseRoles.Viewer) || method is null || HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }

    internal static string? HttpMethodOf(object? resource) => resource switch
    {
        HttpContext http => http.Request.Method,
        _ => null,
    };
}

/// <summary>
/// The fallback for endpoints that declare no policy (and for requests no endpoint matched): paths under
/// <see cref="AgentVerseAuthOptions.ProtectedPathPrefixes"/> need an authenticated caller (viewers read-only);
/// everything else (health, OpenAPI, Dapr callbacks) is open.
/// </summary>
internal sealed class ProtectedPathRequirement(IOptions<AgentVerseAuthOptions> options)
    : AuthorizationHandler<ProtectedPathRequirement>, IAuthorizationRequirement
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ProtectedPathRequirement requirement)
    {
        if (context.Resource is not HttpContext http || !IsProtected(http.Request.Path))
        {
            context.Succeed(requirement);
            return Task.CompletedTask;
        }

        var method = http.Request.Method;
        if (context.User.Identity?.IsAuthenticated == true
            && (!context.User.IsInRole(AgentVerseRoles.Viewer) || HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method)))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }

    private bool IsProtected(PathString path) =>
        options.Value.ProtectedPathPrefixes.Any(prefix => path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase));
}
