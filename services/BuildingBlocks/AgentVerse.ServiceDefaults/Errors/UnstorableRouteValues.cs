using AgentVerse.ServiceDefaults.Dapr;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace AgentVerse.ServiceDefaults.Errors;

/// <summary>
/// An id in the path that could not be a state key (<c>||</c>, a control character, longer than
/// <see cref="StateKeys.MaxLength"/>) names nothing that exists: 404 at once, for every route of every service, instead
/// of a sidecar error from the store. Catch-all parameters (a forwarded path) are checked for the characters only.
/// </summary>
internal sealed class UnstorableRouteValues(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint() is RouteEndpoint endpoint)
        {
            foreach (var parameter in endpoint.RoutePattern.Parameters)
            {
                if (context.Request.RouteValues.TryGetValue(parameter.Name, out var value) && value is string { Length: > 0 } text
                    && !StateKeys.IsStorable(text, parameter.IsCatchAll ? int.MaxValue : StateKeys.MaxLength))
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return Task.CompletedTask;
                }
            }
        }

        return next(context);
    }
}
