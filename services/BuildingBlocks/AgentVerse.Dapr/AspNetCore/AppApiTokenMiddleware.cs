using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AgentVerse.Dapr;

/// <summary>Options of the app API token check (<see cref="AppApiTokenApplicationBuilderExtensions.UseDaprAppApiToken"/>).</summary>
public sealed class DaprAppApiTokenOptions
{
    /// <summary>The token Dapr sends (its <c>APP_API_TOKEN</c>); null reads <c>APP_API_TOKEN</c> from configuration. Empty turns the check off.</summary>
    public string? Token { get; set; }

    /// <summary>Paths (and their sub-paths) served without a token, for probes that do not come through Dapr.</summary>
    public IList<PathString> ExemptPaths { get; } = [new("/healthz"), new("/readyz")];
}

/// <summary>Adds the app API token check.</summary>
public static class AppApiTokenApplicationBuilderExtensions
{
    /// <summary>
    /// When an app API token is configured (<c>APP_API_TOKEN</c>), answers 401 to any request whose <c>dapr-api-token</c>
    /// header does not match it, so only the sidecar can call the app. Health paths are exempt. Without a token it does nothing.
    /// </summary>
    public static IApplicationBuilder UseDaprAppApiToken(this IApplicationBuilder app, Action<DaprAppApiTokenOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = new DaprAppApiTokenOptions();
        configure?.Invoke(options);
        var token = options.Token ?? app.ApplicationServices.GetService<IConfiguration>()?["APP_API_TOKEN"];
        if (string.IsNullOrEmpty(token))
        {
            return app;
        }

        // Hashing both sides gives equal-length inputs, so the comparison leaks neither content nor length.
        var expected = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        var exempt = options.ExemptPaths.ToArray();
        return app.Use(async (context, next) =>
        {
            if (exempt.Any(path => context.Request.Path.StartsWithSegments(path)) || HasValidToken(context.Request, expected))
            {
                await next(context);
                return;
            }

            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        });
    }

    private static bool HasValidToken(HttpRequest request, byte[] expected)
    {
        var values = request.Headers[DaprClient.ApiTokenHeader];
        if (values.Count != 1 || values[0] is not { } presented)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), expected);
    }
}
