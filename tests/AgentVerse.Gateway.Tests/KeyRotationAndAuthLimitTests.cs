using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AgentVerse.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentVerse.Gateway.Tests;

/// <summary>
/// A gateway whose secret store already holds a current and a previous signing key (a rotation in progress) and
/// whose per-IP limit on <c>/api/auth/*</c> is low.
/// </summary>
public sealed class RotatedKeysFixture : IAsyncLifetime
{
    public ECDsa Current { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public ECDsa Previous { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public GatewayRun Run { get; private set; } = null!;

    public Session Session { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var secrets = JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["gateway-jwt-signing-key"] = Current.ExportPkcs8PrivateKeyPem(),
            ["gateway-jwt-signing-key-previous"] = Previous.ExportPkcs8PrivateKeyPem(),
        });
        Run = await GatewayRun.StartAsync(new Dictionary<string, string>
        {
            ["Gateway__PreviousSigningKeySecret"] = "gateway-jwt-signing-key-previous",
            ["Gateway__RateLimits__PerIpRequests"] = "6",
            ["Gateway__RateLimits__PerIpWindowSeconds"] = "60",
        }, secretsJson: secrets);

        var email = $"rot-{Guid.NewGuid():N}@example.com";
        using var registered = await Run.Gateway.Client.PostAsJsonAsync("/api/auth/register", new { email, password = GatewayFixture.Password });
        registered.EnsureSuccessStatusCode();
        using var login = await Run.Gateway.Client.PostAsJsonAsync("/api/auth/login", new { email, password = GatewayFixture.Password });
        login.EnsureSuccessStatusCode();
        Session = Session.From(email, await login.Content.ReadFromJsonAsync<JsonElement>());
    }

    public async Task DisposeAsync()
    {
        await Run.DisposeAsync();
        Current.Dispose();
        Previous.Dispose();
    }

    /// <summary>RFC 7638 thumbprint, the gateway's kid.</summary>
    public static string KeyId(ECDsa key)
    {
        var q = key.ExportParameters(false).Q;
        var canonical = $$"""{"crv":"P-256","kty":"EC","x":"{{Base64UrlEncoder.Encode(q.X!)}}","y":"{{Base64UrlEncoder.Encode(q.Y!)}}"}""";
        return Base64UrlEncoder.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }
}

[Collection(GatewayTestGroup.Name)]
public sealed class KeyRotationAndAuthLimitTests(RotatedKeysFixture fixture) : IClassFixture<RotatedKeysFixture>
{
    [Fact]
    public async Task The_gateway_signs_with_the_stored_current_key_and_publishes_current_and_previous()
    {
        var jwks = await fixture.Run.Gateway.Client.GetFromJsonAsync<JsonElement>("/.well-known/jwks.json");
        var kids = jwks.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("kid").GetString()).ToList();

        Assert.Equal([RotatedKeysFixture.KeyId(fixture.Current), RotatedKeysFixture.KeyId(fixture.Previous)], kids);
        Assert.Equal(RotatedKeysFixture.KeyId(fixture.Current), new JsonWebToken(fixture.Session.Token).Kid);
    }

    [Fact]
    public async Task A_token_signed_with_the_previous_key_is_still_accepted_by_the_gateway_and_by_services()
    {
        var real = new JsonWebToken(fixture.Session.Token);
        var token = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = real.Issuer,
            Audience = real.Audiences.Single(),
            IssuedAt = DateTime.UtcNow,
            NotBefore = DateTime.UtcNow,
            Expires = DateTime.UtcNow.AddMinutes(5),
            TokenType = "at+jwt",
            SigningCredentials = new SigningCredentials(
                new ECDsaSecurityKey(fixture.Previous) { KeyId = RotatedKeysFixture.KeyId(fixture.Previous) }, SecurityAlgorithms.EcdsaSha256),
            Claims = new Dictionary<string, object>
            {
                ["sub"] = fixture.Session.UserId,
                ["role"] = fixture.Session.Role,
                ["sid"] = real.GetClaim("sid").Value,
                ["jti"] = Guid.NewGuid().ToString("N"),
            },
        });

        using var proxied = await Send(fixture.Run.Gateway.Client, "/api/v1/rag/echo", token);
        using var direct = await Send(fixture.Run.Agents.Client, "/api/v1/agents/x", token);

        Assert.Equal(HttpStatusCode.OK, proxied.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, direct.StatusCode);
    }

    [Fact]
    public async Task Auth_endpoints_are_limited_per_client_IP_with_429_and_Retry_After()
    {
        var responses = new List<HttpResponseMessage>();
        for (var i = 0; i < 10; i++)
        {
            responses.Add(await fixture.Run.Gateway.Client.PostAsJsonAsync("/api/auth/login",
                new { email = $"nobody-{i}@example.com", password = "whatever-password-1" }));
        }

        var refused = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(refused);
        Assert.True(refused[0].Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.Equal("application/problem+json", refused[0].Content.Headers.ContentType?.MediaType);
        responses.ForEach(r => r.Dispose());
    }

    private static Task<HttpResponseMessage> Send(HttpClient client, string path, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new("Bearer", token);
        return client.SendAsync(request);
    }
}
