using AgentVerse.ServiceDefaults.PubSub;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AgentVerse.ServiceDefaults.Authentication;

/// <summary>Zero-trust authentication and the role policies every service shares.</summary>
internal static class AuthenticationExtensions
{
    /// <summary>The route on which the <c>session.revoked</c> events arrive.</summary>
    public const string SessionRevokedRoute = "/dapr/agentverse/session-revoked";

    public static void AddAgentVerseAuthentication(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<AgentVerseAuthOptions, AgentVerseAuthOptionsValidator>(AgentVerseAuthOptions.SectionName);

        // TryAdd: the gateway registers its own key and session sources first.
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<ITokenKeySource, DaprJwksKeySource>();
        builder.Services.TryAddSingleton<ISessionStatusSource, DaprSessionStatusSource>();
        builder.Services.TryAddSingleton<SessionRevocationCache>();
        builder.Services.TryAddSingleton<RememberedTokenHandler>();
        builder.Services.AddSingleton<IConfigureOptions<JwtBearerOptions>, JwtBearerSetup>();

        var authentication = builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        builder.Services.AddDaprAppTokenAuthentication(authentication, builder.Configuration);

        builder.Services.AddSingleton<IAuthorizationHandler, ViewerReadOnlyRequirement>();
        builder.Services.AddSingleton<IAuthorizationHandler, ProtectedPathRequirement>();
        builder.Services.AddOptions<AuthorizationOptions>().Configure<IOptions<AgentVerseAuthOptions>>((authorization, auth) =>
        {
            authorization.AddPolicy(AgentVersePolicies.Admin, policy => policy.RequireAuthenticatedUser().RequireRole(AgentVerseRoles.Admin));
            authorization.AddPolicy(AgentVersePolicies.User, policy => policy.RequireAuthenticatedUser().RequireRole(AgentVerseRoles.Admin, AgentVerseRoles.User));
            var viewer = new AuthorizationPolicyBuilder().RequireAuthenticatedUser()
                .RequireRole(AgentVerseRoles.All).AddRequirements(new ViewerReadOnlyRequirement()).Build();
            authorization.AddPolicy(AgentVersePolicies.Viewer, viewer);
            // A bare RequireAuthorization() means the same: viewers are read-only everywhere.
            authorization.DefaultPolicy = viewer;
            authorization.AddPolicy(AgentVersePolicies.Authenticated, policy => policy.RequireAuthenticatedUser().RequireRole(AgentVerseRoles.All));
            authorization.FallbackPolicy = new AuthorizationPolicyBuilder().AddRequirements(new ProtectedPathRequirement(auth)).Build();
        });
        builder.Services.AddAuthorization();
    }

    public static void UseAgentVerseAuthentication(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseAuthorization();

        // A revoked session is marked at once; the cache time only bounds staleness when an event is lost.
        var options = app.Services.GetRequiredService<IOptions<AgentVerseAuthOptions>>().Value;
        app.MapPost(SessionRevokedRoute, (SessionRevoked revoked, SessionRevocationCache sessions) =>
            {
                if (!string.IsNullOrEmpty(revoked.SessionId))
                {
                    sessions.MarkRevoked(revoked.SessionId);
                }

                return TopicResults.Success();
            })
            .WithTopic(options.PubSubName, options.SessionRevokedTopic)
            .RequireDaprSidecar(app.Configuration)
            .ExcludeFromDescription();
    }
}
