using AgentVerse.Gateway.Accounts;
using AgentVerse.Gateway.Protection;
using AgentVerse.Gateway.Routing;
using AgentVerse.Gateway.Tokens;
using AgentVerse.ServiceDefaults;
using AgentVerse.ServiceDefaults.Authentication;
using AgentVerse.ServiceDefaults.Secrets;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AgentVerse.Gateway;

public static class GatewayExtensions
{
    /// <summary>Accounts, tokens, routing and edge protection. Call after <c>AddServiceDefaults</c>.</summary>
    public static IHostApplicationBuilder AddGatewayServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<GatewayOptions, GatewayOptionsValidator>(GatewayOptions.SectionName);
        services.AddValidatedOptions<RoutingOptions, RoutingOptionsValidator>(RoutingOptions.SectionName);
        services.AddOptions<Protection.CorsOptions>().BindConfiguration(Protection.CorsOptions.SectionName);

        services.AddSingleton<SigningKeyStore>();
        services.AddStartupLoader<SigningKeyStore>();
        services.AddSingleton<TokenIssuer>();
        services.AddSingleton<AccountStore>();
        services.AddSingleton<PasswordPolicy>();
        services.AddSingleton<SessionRevoker>();
        services.AddSingleton<AccountService>();
        services.AddSingleton<IPasswordHasher<User>, PasswordHasher<User>>();
        services.AddHttpForwarder();
        services.AddSingleton<DaprForwarder>();

        // The gateway is the source of truth for keys and sessions: no round trip to itself.
        services.Replace(ServiceDescriptor.Singleton<ITokenKeySource, GatewayTokenKeySource>());
        services.Replace(ServiceDescriptor.Singleton<ISessionStatusSource, GatewaySessionStatusSource>());

        services.AddGatewayRateLimits();
        services.AddCors();
        services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>()
            .Configure<IOptions<Protection.CorsOptions>>((cors, origins) => cors.AddDefaultPolicy(policy => policy
                .WithOrigins([.. origins.Value.AllowedOrigins])
                .AllowAnyHeader()
                .AllowAnyMethod()
                .WithExposedHeaders(RequestIdMiddleware.HeaderName, "Retry-After")));
        services.AddHsts(hsts => hsts.MaxAge = TimeSpan.FromDays(365));
        return builder;
    }

    /// <summary>Request id and security headers, first in the pipeline so every response carries them; then ASCII headers only.</summary>
    public static WebApplication UseGatewayEdge(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
        {
            app.UseHsts();
        }

        app.UseMiddleware<SecurityHeadersMiddleware>();
        app.UseMiddleware<RequestIdMiddleware>();
        app.UseMiddleware<AsciiHeadersMiddleware>();
        return app;
    }
}
