using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AgentVerse.IntegrationTests.Services;

/// <summary>
/// Stands in for a Dapr sidecar's outbound-health endpoint, the only sidecar API the readiness check calls.
/// A minimal Kestrel app is enough for that one endpoint, and the local Dapr-compatible runtime is being
/// built concurrently elsewhere; tests of Dapr behaviour proper run against that runtime instead.
/// The port is held by a bound, non-listening socket until <see cref="StartAsync"/>, so until then
/// connecting to it is refused, exactly as when no sidecar runs, and no one else can take the port.
/// </summary>
public sealed class FakeSidecar : IAsyncDisposable
{
    private Socket? _reservation;
    private WebApplication? _app;

    public FakeSidecar()
    {
        _reservation = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _reservation.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Port = ((IPEndPoint)_reservation.LocalEndPoint!).Port;
    }

    /// <summary>The sidecar HTTP port, as passed to apps in <c>DAPR_HTTP_PORT</c>.</summary>
    public int Port { get; }

    /// <summary>Starts answering <c>GET /v1.0/healthz/outbound</c> with 204, as daprd does once its components are up.</summary>
    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{Port}");
        _app = builder.Build();
        _app.MapGet("/v1.0/healthz/outbound", () => Results.NoContent());

        _reservation?.Dispose();
        _reservation = null;
        await _app.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _reservation?.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
