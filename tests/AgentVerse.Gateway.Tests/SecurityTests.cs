using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentVerse.Gateway.Tests;

/// <summary>
/// Forged and broken tokens are refused with 401 by the gateway (its own routes and the proxy) and by a service
/// reached straight on its port, which validates tokens itself (zero trust). A token forged with the real key and
/// correct claims is accepted, so each refusal is down to the one defect the token has.
/// </summary>
[Collection(GatewayTestGroup.Name)]
public sealed class SecurityTests(GatewayFixture fixture)
{
    public static TheoryData<string> Defects => new()
    {
        "alg-none", "hmac-with-public-key", "wrong-issuer", "wrong-audience", "expired", "tampered-payload",
        "unknown-kid", "signed-by-another-key", "wrong-typ", "not-a-jwt",
    };

    [Fact]
    public async Task A_token_forged_with_the_real_key_and_right_claims_is_accepted_everywhere()
    {
        var session = await fixture.NewUserAsync();
        var token = await ForgeAsync(session, _ => { });

        using var me = await fixture.SendAsync(HttpMethod.Get, "/api/auth/me", token);
        using var proxied = await fixture.SendAsync(HttpMethod.Get, "/api/v1/rag/echo", token);
        using var direct = await fixture.SendAsync(HttpMethod.Get, "/api/v1/agents/anything", token, client: fixture.Agents);

        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        Assert.Equal(HttpStatusCode.OK, proxied.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, direct.StatusCode);
    }

    [Theory]
    [MemberData(nameof(Defects))]
    public async Task A_defective_token_gets_401_at_the_gateway_and_straight_at_a_service(string defect)
    {
        var session = await fixture.NewUserAsync();
        var token = await BreakAsync(session, defect);

        using var me = await fixture.SendAsync(HttpMethod.Get, "/api/auth/me", token);
        using var proxied = await fixture.SendAsync(HttpMethod.Get, "/api/v1/rag/echo", token);
        using var direct = await fixture.SendAsync(HttpMethod.Get, "/api/v1/agents/anything", token, client: fixture.Agents);
        using var directPost = await fixture.SendAsync(HttpMethod.Post, "/api/v1/agents", token, new { name = "x" }, client: fixture.Agents);

        Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, proxied.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, direct.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, directPost.StatusCode);
        Assert.Contains("invalid_token", direct.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Informational_user_headers_without_a_token_authenticate_nothing()
    {
        var session = await fixture.NewUserAsync();

        using var direct = await fixture.SendAsync(HttpMethod.Get, "/api/v1/agents/anything", null, client: fixture.Agents, configure: r =>
        {
            r.Headers.Add("X-User-ID", session.UserId);
            r.Headers.Add("X-User-Role", "admin");
        });

        Assert.Equal(HttpStatusCode.Unauthorized, direct.StatusCode);
    }

    [Fact]
    public async Task Open_endpoints_stay_open_and_api_paths_need_a_token_in_every_service()
    {
        using var jwks = await fixture.Gateway.GetAsync("/.well-known/jwks.json");
        using var healthz = await fixture.Agents.GetAsync("/healthz");
        using var openapi = await fixture.Agents.GetAsync("/openapi/v1.json");
        using var subscribe = await fixture.Agents.GetAsync("/dapr/subscribe");
        using var api = await fixture.Agents.GetAsync("/api/v1/agents");

        Assert.Equal(HttpStatusCode.OK, jwks.StatusCode);
        Assert.Equal(HttpStatusCode.OK, healthz.StatusCode);
        Assert.Equal(HttpStatusCode.OK, openapi.StatusCode);
        Assert.Equal(HttpStatusCode.OK, subscribe.StatusCode);
        Assert.Contains("session.revoked", await subscribe.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
        Assert.Equal("application/problem+json", api.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_service_mapping_its_own_subscribe_handler_still_subscribes_to_revocations()
    {
        using var echo = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{fixture.Stack.Echo.Port}/") };

        using var subscribe = await echo.GetAsync("/dapr/subscribe");

        Assert.Equal(HttpStatusCode.OK, subscribe.StatusCode);
        Assert.Contains("session.revoked", await subscribe.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_JWKS_publishes_an_ES256_P256_key_whose_kid_signs_the_tokens()
    {
        var session = await fixture.NewUserAsync();
        var jwks = await fixture.Gateway.GetFromJsonAsync<JsonElement>("/.well-known/jwks.json");
        var key = Assert.Single(jwks.GetProperty("keys").EnumerateArray());
        var header = new JsonWebToken(session.Token);

        Assert.Equal("EC", key.GetProperty("kty").GetString());
        Assert.Equal("P-256", key.GetProperty("crv").GetString());
        Assert.Equal("ES256", key.GetProperty("alg").GetString());
        Assert.False(key.TryGetProperty("d", out _));
        Assert.Equal(key.GetProperty("kid").GetString(), header.Kid);
        Assert.Equal("ES256", header.Alg);
        Assert.Equal("at+jwt", header.Typ);
        foreach (var claim in new[] { "iss", "aud", "sub", "role", "sid", "jti", "exp" })
        {
            Assert.True(header.TryGetPayloadValue<object>(claim, out _), $"missing {claim}");
        }
    }

    [Fact]
    public async Task Tokens_are_signed_with_the_key_provisioned_in_the_secret_store_which_the_gateway_never_rewrites()
    {
        var before = await File.ReadAllTextAsync(fixture.Stack.SecretsFile);
        using var provisioned = ECDsa.Create();
        provisioned.ImportFromPem(JsonNode.Parse(before)!["gateway-jwt-signing-key"]!.GetValue<string>());
        var published = (await fixture.Gateway.GetFromJsonAsync<JsonElement>("/.well-known/jwks.json")).GetProperty("keys")[0];

        var parameters = provisioned.ExportParameters(includePrivateParameters: false);
        Assert.Equal(Base64UrlEncoder.Encode(parameters.Q.X), published.GetProperty("x").GetString());
        Assert.Equal(Base64UrlEncoder.Encode(parameters.Q.Y), published.GetProperty("y").GetString());
        Assert.Equal(before, await File.ReadAllTextAsync(fixture.Stack.SecretsFile));
    }

    private async Task<string> BreakAsync(Session session, string defect)
    {
        switch (defect)
        {
            case "alg-none":
            {
                var parts = (await ForgeAsync(session, _ => { })).Split('.');
                var header = Encode(new { alg = "none", typ = "at+jwt", kid = await KeyIdAsync() });
                return $"{header}.{parts[1]}.";
            }
            case "hmac-with-public-key":
            {
                using var key = await RealKeyAsync();
                var publicPem = Encoding.UTF8.GetBytes(key.ExportSubjectPublicKeyInfoPem());
                return await ForgeAsync(session, d => d.SigningCredentials = new SigningCredentials(
                    new SymmetricSecurityKey(publicPem) { KeyId = d.SigningCredentials.Key.KeyId }, SecurityAlgorithms.HmacSha256));
            }
            case "wrong-issuer":
                return await ForgeAsync(session, d => d.Issuer = "https://evil.example");
            case "wrong-audience":
                return await ForgeAsync(session, d => d.Audience = "someone-else");
            case "expired":
                return await ForgeAsync(session, d =>
                {
                    d.IssuedAt = d.NotBefore = DateTime.UtcNow.AddMinutes(-20);
                    d.Expires = DateTime.UtcNow.AddMinutes(-2);
                });
            case "tampered-payload":
            {
                var parts = session.Token.Split('.');
                var payload = JsonNode.Parse(Base64UrlEncoder.Decode(parts[1]))!.AsObject();
                payload["role"] = "admin";
                return $"{parts[0]}.{Base64UrlEncoder.Encode(payload.ToJsonString())}.{parts[2]}";
            }
            case "unknown-kid":
                return await ForgeAsync(session, d => ((ECDsaSecurityKey)d.SigningCredentials.Key).KeyId = "not-a-published-key");
            case "signed-by-another-key":
            {
                var other = new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = await KeyIdAsync() };
                return await ForgeAsync(session, d => d.SigningCredentials = new SigningCredentials(other, SecurityAlgorithms.EcdsaSha256));
            }
            case "wrong-typ":
                return await ForgeAsync(session, d => d.TokenType = "JWT");
            case "not-a-jwt":
                return "definitely-not-a-jwt";
            default:
                throw new ArgumentOutOfRangeException(nameof(defect), defect, null);
        }
    }

    /// <summary>A token signed with the gateway's real key (read from the local secrets file) and right claims, then <paramref name="change"/>d.</summary>
    private async Task<string> ForgeAsync(Session session, Action<SecurityTokenDescriptor> change)
    {
        var real = new JsonWebToken(session.Token);
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = real.Issuer,
            Audience = real.Audiences.Single(),
            IssuedAt = DateTime.UtcNow,
            NotBefore = DateTime.UtcNow,
            Expires = DateTime.UtcNow.AddMinutes(5),
            TokenType = "at+jwt",
            SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(await RealKeyAsync()) { KeyId = real.Kid }, SecurityAlgorithms.EcdsaSha256),
            Claims = new Dictionary<string, object>
            {
                ["sub"] = session.UserId,
                ["role"] = session.Role,
                ["sid"] = real.GetClaim("sid").Value,
                ["jti"] = Guid.NewGuid().ToString("N"),
            },
        };
        change(descriptor);
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    private async Task<ECDsa> RealKeyAsync()
    {
        var secrets = JsonNode.Parse(await File.ReadAllTextAsync(fixture.Stack.SecretsFile))!.AsObject();
        var key = ECDsa.Create();
        key.ImportFromPem(secrets["gateway-jwt-signing-key"]!.GetValue<string>());
        return key;
    }

    private async Task<string> KeyIdAsync()
    {
        var jwks = await fixture.Gateway.GetFromJsonAsync<JsonElement>("/.well-known/jwks.json");
        return jwks.GetProperty("keys")[0].GetProperty("kid").GetString()!;
    }

    private static string Encode(object value) => Base64UrlEncoder.Encode(JsonSerializer.Serialize(value));
}
