using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace AgentVerse.Gateway.Tests;

[Collection(GatewayTestGroup.Name)]
public sealed class ProtectionTests(GatewayFixture fixture)
{
    [Fact]
    public async Task A_burst_over_the_per_user_limit_gets_429_with_Retry_After_and_recovers()
    {
        var session = await fixture.NewUserAsync();

        // Burst 40, 20 per second (the fixture's settings): 100 at once must overflow.
        var responses = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => fixture.SendAsync(HttpMethod.Get, "/api/v1/rag/ping", session.Token)));

        var refused = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(refused);
        Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.TooManyRequests }));
        var first = refused[0];
        Assert.True(first.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.Equal("application/problem+json", first.Content.Headers.ContentType?.MediaType);

        await Task.Delay(first.Headers.RetryAfter!.Delta!.Value + TimeSpan.FromMilliseconds(500));
        using var after = await fixture.SendAsync(HttpMethod.Get, "/api/v1/rag/ping", session.Token);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task Responses_carry_security_headers_errors_included()
    {
        using var ok = await fixture.Gateway.GetAsync("/.well-known/jwks.json");
        using var unauthorized = await fixture.Gateway.GetAsync("/api/auth/me");

        foreach (var response in new[] { ok, unauthorized })
        {
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
            Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        }

        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
    }

    [Fact]
    public async Task CORS_allows_configured_origins_only()
    {
        using var allowed = await Preflight("https://app.example");
        using var other = await Preflight("https://evil.example");

        Assert.Equal("https://app.example", allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.False(other.Headers.Contains("Access-Control-Allow-Origin"));

        Task<HttpResponseMessage> Preflight(string origin)
        {
            var request = new HttpRequestMessage(HttpMethod.Options, "/api/v1/agents");
            request.Headers.Add("Origin", origin);
            request.Headers.Add("Access-Control-Request-Method", "POST");
            request.Headers.Add("Access-Control-Request-Headers", "authorization,content-type");
            return fixture.Gateway.SendAsync(request);
        }
    }

    [Fact]
    public async Task A_body_over_the_size_limit_gets_413()
    {
        using var content = new ByteArrayContent(new byte[5 * 1024 * 1024]);
        content.Headers.ContentType = new("application/json");

        // Expect: 100-continue, so the refusal comes before the body is sent instead of resetting the upload.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/register") { Content = content };
        request.Headers.ExpectContinue = true;
        using var response = await fixture.Gateway.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Health_aggregates_each_services_readiness_with_detail()
    {
        using var response = await fixture.Gateway.GetAsync("/health");

        // agents and rag run; orchestrator, tools and the rest do not: degraded, not down.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var health = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("degraded", health.GetProperty("status").GetString());
        var services = health.GetProperty("services");
        Assert.Equal("healthy", services.GetProperty("agents").GetProperty("status").GetString());
        Assert.Equal("healthy", services.GetProperty("rag").GetProperty("status").GetString());
        Assert.Equal("unhealthy", services.GetProperty("tools").GetProperty("status").GetString());
        Assert.False(string.IsNullOrEmpty(services.GetProperty("tools").GetProperty("detail").GetString()));
    }
}
