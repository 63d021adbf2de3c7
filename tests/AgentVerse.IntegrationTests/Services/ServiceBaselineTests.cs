using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace AgentVerse.IntegrationTests.Services;

/// <summary>
/// What every service offers from ServiceDefaults alone, checked on the built services running as real
/// processes the way the launcher starts them (<c>APP_PORT</c>, <c>DAPR_HTTP_PORT</c>, <c>DAPR_GRPC_PORT</c>).
/// </summary>
public sealed class ServiceBaselineTests(ServicesFixture fixture) : IClassFixture<ServicesFixture>
{
    [Fact]
    public Task Every_service_serves_liveness_with_a_json_report() => fixture.ForEachService(async service =>
    {
        using var response = await service.Client.GetAsync(new Uri("healthz", UriKind.Relative));

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{service}: /healthz answered {response.StatusCode}");
        var report = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Healthy", report.GetProperty("status").GetString());
        // Liveness checks no dependency, so a missing sidecar does not get the pod restarted.
        Assert.DoesNotContain(Checks(report), check => check.Name == "dapr-sidecar");
    });

    [Fact]
    public Task Every_service_serves_its_openapi_document() => fixture.ForEachService(async service =>
    {
        using var response = await service.Client.GetAsync(new Uri("openapi/v1.json", UriKind.Relative));

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{service}: /openapi/v1.json answered {response.StatusCode}");
        var document = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.StartsWith("3.", document.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        Assert.Contains($"AgentVerse.{service.Name}", document.GetProperty("info").GetProperty("title").GetString(), StringComparison.Ordinal);
    });

    [Fact]
    public async Task Readiness_is_503_without_a_sidecar_and_200_once_the_sidecar_reports_outbound_health()
    {
        await fixture.ForEachService(async service =>
        {
            var traceId = ActivityTraceId.CreateRandom().ToHexString();
            using var request = new HttpRequestMessage(HttpMethod.Get, "readyz");
            request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");

            using var response = await service.Client.SendAsync(request);

            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{service}: /readyz answered {response.StatusCode} with no sidecar");
            var report = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("Unhealthy", report.GetProperty("status").GetString());
            Assert.Contains(("dapr-sidecar", "Unhealthy"), Checks(report));
            // The failing check is logged within the probe's trace.
            Assert.NotNull(await service.WaitForOutputAsync(line => line.Contains("dapr-sidecar", StringComparison.Ordinal) && TraceIdOf(line) == traceId, TimeSpan.FromSeconds(5)));
        });

        await fixture.StartSidecarsAsync();

        await fixture.ForEachService(async service =>
        {
            // Ready once the sidecar answers and the service has loaded what it needs through it (its secrets).
            var deadline = DateTime.UtcNow.AddSeconds(30);
            HttpResponseMessage response;
            while ((response = await service.Client.GetAsync(new Uri("readyz", UriKind.Relative))).StatusCode != HttpStatusCode.OK && DateTime.UtcNow < deadline)
            {
                response.Dispose();
                await Task.Delay(100);
            }

            using (response)
            {
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{service}: /readyz answered {response.StatusCode} with the sidecar up:\n{service.Output}");
                var report = await response.Content.ReadFromJsonAsync<JsonElement>();
                Assert.Equal("Healthy", report.GetProperty("status").GetString());
                Assert.Contains(("dapr-sidecar", "Healthy"), Checks(report));
                Assert.Contains(("startup", "Healthy"), Checks(report));
            }
        });
    }

    [Fact]
    public Task Unknown_routes_return_404_problem_details() => fixture.ForEachService(async service =>
    {
        using var response = await service.Client.GetAsync(new Uri("no/such/route", UriKind.Relative));

        Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{service}: unknown route answered {response.StatusCode}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(404, problem.GetProperty("status").GetInt32());
        Assert.True(problem.TryGetProperty("title", out _));
    });

    [Fact]
    public Task Request_bodies_over_the_configured_limit_get_413_problem_details() => fixture.ForEachService(async service =>
    {
        using var body = new ByteArrayContent(new byte[ServicesFixture.MaxRequestBodyBytes + 1]);

        using var response = await service.Client.PostAsync(new Uri("no/such/route", UriKind.Relative), body);

        Assert.True(response.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"{service}: oversized body answered {response.StatusCode}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(413, problem.GetProperty("status").GetInt32());
    });

    [Fact]
    public Task Logs_are_json_lines_carrying_the_request_trace_id() => fixture.ForEachService(async service =>
    {
        // A refused oversized body is logged whatever the sidecar's state, so this test needs no ordering.
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        using var request = new HttpRequestMessage(HttpMethod.Post, "anything")
        {
            Content = new ByteArrayContent(new byte[ServicesFixture.MaxRequestBodyBytes + 1]),
        };
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");

        using var response = await service.Client.SendAsync(request);

        var line = await service.WaitForOutputAsync(line => TraceIdOf(line) == traceId, TimeSpan.FromSeconds(5));
        Assert.True(line is not null, $"{service}: no log line with trace id {traceId} in:\n{string.Join('\n', service.StandardOutput)}");
        Assert.All(service.StandardOutput, output => Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(output).RootElement.ValueKind));
    });

    private static List<(string Name, string? Status)> Checks(JsonElement report) =>
        [.. report.GetProperty("checks").EnumerateArray().Select(check => (check.GetProperty("name").GetString()!, check.GetProperty("status").GetString()))];

    /// <summary>The <c>TraceId</c> the JSON console formatter writes among a log line's scopes, if any.</summary>
    private static string? TraceIdOf(string line)
    {
        try
        {
            using var json = JsonDocument.Parse(line);
            if (!json.RootElement.TryGetProperty("Scopes", out var scopes))
            {
                return null;
            }

            return scopes.EnumerateArray()
                .Where(scope => scope.ValueKind == JsonValueKind.Object && scope.TryGetProperty("TraceId", out _))
                .Select(scope => scope.GetProperty("TraceId").GetString())
                .FirstOrDefault();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
