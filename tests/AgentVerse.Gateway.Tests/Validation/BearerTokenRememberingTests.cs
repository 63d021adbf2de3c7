using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using AgentVerse.Runtime;
using AgentVerse.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentVerse.Gateway.Tests.Validation;

/// <summary>
/// The JWT bearer handler as every service sets it up, over real HTTP: a token whose signature and claims checked out
/// is remembered (up to a minute, never past its expiry), so repeated requests skip the signature check; the session
/// is still checked on every request.
/// </summary>
public sealed class BearerTokenRememberingTests : IAsyncLifetime
{
    private const string SessionId = "session-1";

    private readonly ECDsa _signing = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsaSecurityKey _key;
    private readonly ClockFromNow _time = new();
    private App _app = null!;

    public BearerTokenRememberingTests() => _key = new ECDsaSecurityKey(_signing) { KeyId = "k1" };

    public async Task InitializeAsync() => _app = await App.StartAsync(_key, _time);

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        _signing.Dispose();
    }

    [Fact]
    public async Task A_valid_token_has_its_signature_checked_once_then_is_remembered()
    {
        var token = Mint(TimeSpan.FromMinutes(15));

        Assert.Equal("user-1", await _app.WhoAmIAsync(token));
        Assert.Equal("user-1", await _app.WhoAmIAsync(token));
        Assert.Equal(1, _app.FullValidations);
    }

    [Fact]
    public async Task A_remembered_token_of_a_revoked_session_is_refused()
    {
        var token = Mint(TimeSpan.FromMinutes(15));
        Assert.Equal("user-1", await _app.WhoAmIAsync(token));

        _app.Sessions.MarkRevoked(SessionId);

        Assert.Null(await _app.WhoAmIAsync(token));
    }

    [Fact]
    public async Task A_remembered_token_is_refused_once_it_has_expired()
    {
        // On the real clock, which the signature and lifetime check uses too; the token expires well within the
        // minute a token is remembered for.
        await using var app = await App.StartAsync(_key, TimeProvider.System);
        var token = Mint(TimeSpan.FromSeconds(2), TimeProvider.System);
        Assert.Equal("user-1", await app.WhoAmIAsync(token));

        var expires = DateTimeOffset.FromUnixTimeSeconds(new JsonWebToken(token).GetPayloadValue<long>("exp"));
        var untilExpired = expires - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(100);
        if (untilExpired > TimeSpan.Zero)
        {
            await Task.Delay(untilExpired); // a slow first validation may already have used up the two seconds
        }

        Assert.Null(await app.WhoAmIAsync(token));
    }

    [Fact]
    public async Task A_token_is_remembered_by_its_exact_text_so_a_tampered_copy_is_checked_and_refused()
    {
        var token = Mint(TimeSpan.FromMinutes(15));
        Assert.Equal("user-1", await _app.WhoAmIAsync(token));

        // Same header and claims, another signature.
        var tampered = token[..(token.LastIndexOf('.') + 1)] + Base64UrlEncoder.Encode(new byte[64]);

        Assert.Null(await _app.WhoAmIAsync(tampered));
        Assert.Equal(2, _app.FullValidations);
    }

    [Fact]
    public async Task A_remembered_token_is_checked_again_after_a_minute()
    {
        var token = Mint(TimeSpan.FromMinutes(15));
        Assert.Equal("user-1", await _app.WhoAmIAsync(token));

        _time.Advance(TimeSpan.FromSeconds(61));

        Assert.Equal("user-1", await _app.WhoAmIAsync(token));
        Assert.Equal(2, _app.FullValidations);
    }

    private string Mint(TimeSpan lifetime, TimeProvider? clock = null)
    {
        var now = (clock ?? _time).GetUtcNow().UtcDateTime;
        var defaults = new AgentVerseAuthOptions();
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = defaults.Issuer,
            Audience = defaults.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            TokenType = AccessTokens.TokenType,
            SigningCredentials = new SigningCredentials(_key, AccessTokens.Algorithm),
            Claims = new Dictionary<string, object>
            {
                [AgentVerseClaims.Subject] = "user-1",
                [AgentVerseClaims.SessionId] = SessionId,
                [AgentVerseClaims.Role] = AgentVerseRoles.User,
            },
        });
    }

    /// <summary>A web app with the services' bearer authentication (no clock skew) and one endpoint that says who called.</summary>
    private sealed class App : IAsyncDisposable
    {
        private readonly WebApplication _web;
        private readonly HttpClient _client;

        private App(WebApplication web, int port)
        {
            _web = web;
            _client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        }

        public SessionRevocationCache Sessions => _web.Services.GetRequiredService<SessionRevocationCache>();

        public long FullValidations => _web.Services.GetRequiredService<RememberedTokenHandler>().FullValidations;

        public static async Task<App> StartAsync(SecurityKey key, TimeProvider time)
        {
            var port = LoopbackPorts.Take();
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
            builder.Configuration["AgentVerse:Auth:ClockSkewSeconds"] = "0";
            // Registered first: the authentication set-up only adds what is missing.
            builder.Services.AddSingleton(time);
            builder.Services.AddSingleton<ITokenKeySource>(new FixedKeys(key));
            builder.Services.AddSingleton<ISessionStatusSource, NoSessionRevoked>();
            builder.AddAgentVerseAuthentication();
            var web = builder.Build();
            web.UseAgentVerseAuthentication();
            web.MapGet("/api/me", (HttpContext context) => context.User.FindFirst(AgentVerseClaims.Subject)?.Value ?? "");
            await web.StartAsync();
            return new App(web, port);
        }

        /// <summary>The caller's user id, or null when the token was refused.</summary>
        public async Task<string?> WhoAmIAsync(string token)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "api/me");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await _client.SendAsync(request);
            return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadAsStringAsync() : null;
        }

        public async ValueTask DisposeAsync()
        {
            _client.Dispose();
            await _web.DisposeAsync();
        }
    }

    /// <summary>Starts at the real time (tokens carry real timestamps) and moves only when told.</summary>
    private sealed class ClockFromNow : TimeProvider
    {
        private DateTimeOffset _now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }

    private sealed class FixedKeys(SecurityKey key) : ITokenKeySource
    {
        private readonly IReadOnlyList<SecurityKey> _keys = [key];

        public ValueTask<IReadOnlyList<SecurityKey>> GetKeysAsync(string? keyId, CancellationToken cancellationToken) => ValueTask.FromResult(_keys);
    }

    private sealed class NoSessionRevoked : ISessionStatusSource
    {
        public Task<bool> IsRevokedAsync(string sessionId, CancellationToken cancellationToken) => Task.FromResult(false);
    }
}
