using System.Collections.Concurrent;
using System.Net;
using AgentVerse.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AgentVerse.IntegrationTests.Services;

/// <summary>
/// With <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, a service exports traces, metrics and logs over OTLP/HTTP,
/// under its Dapr app id as <c>service.name</c>. The collector here is a Kestrel endpoint keeping the
/// protobuf payloads it receives.
/// </summary>
public sealed class TelemetryExportTests
{
    /// <summary>
    /// The resource attribute as protobuf encodes it: KeyValue { key = "service.name" (field 1),
    /// value = AnyValue { string_value = "gateway" } (field 2 holding field 1) }.
    /// </summary>
    private static readonly byte[] ServiceNameGateway =
        [0x0a, 12, .. "service.name"u8, 0x12, 9, 0x0a, 7, .. "gateway"u8];

    [Fact]
    public async Task Traces_metrics_and_logs_go_to_the_OTLP_endpoint_under_the_app_id()
    {
        var received = new ConcurrentQueue<(string Signal, byte[] Body)>();
        await using var collector = await StartCollectorAsync(received);
        await using var gateway = await ServiceProcess.StartAsync("Gateway", new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Urls.Single(),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            // Export within a second instead of the default five to sixty.
            ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "100",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
        });

        using var response = await gateway.Client.GetAsync(new Uri("healthz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (DateTime.UtcNow < deadline && !AllSignals(received, out _))
        {
            await Task.Delay(100);
        }

        Assert.True(AllSignals(received, out var missing), $"No OTLP {missing} with service.name=gateway; received: {string.Join(", ", received.Select(r => r.Signal))}");
        // The request's server span comes from ASP.NET Core's own activity source.
        Assert.Contains(received, r => r.Signal == "traces" && Contains(r.Body, "Microsoft.AspNetCore"u8));
    }

    private static bool AllSignals(IEnumerable<(string Signal, byte[] Body)> received, out string missing)
    {
        missing = string.Join(", ", new[] { "traces", "metrics", "logs" }
            .Where(signal => !received.Any(r => r.Signal == signal && Contains(r.Body, ServiceNameGateway))));
        return missing.Length == 0;
    }

    private static bool Contains(byte[] body, ReadOnlySpan<byte> value) => body.AsSpan().IndexOf(value) >= 0;

    private static async Task<WebApplication> StartCollectorAsync(ConcurrentQueue<(string Signal, byte[] Body)> received)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = null);
        var collector = builder.Build();
        collector.MapPost("/v1/{signal}", async (string signal, HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            received.Enqueue((signal, body.ToArray()));
            return Results.Bytes([], "application/x-protobuf");
        });
        await collector.StartAsync();
        return collector;
    }
}
