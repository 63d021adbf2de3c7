using System.Diagnostics;
using System.Net;

namespace AgentVerse.Runtime.Sidecar;

/// <summary>The sidecar's HTTP connection to its app (daprd's "app channel").</summary>
internal sealed class AppChannel : IDisposable
{
    private readonly HttpClient _client;

    public AppChannel(string address, int port, string? appApiToken)
    {
        BaseAddress = new Uri($"http://{address}:{port}");
        Address = address;
        Port = port;
        AppApiToken = appApiToken;
        _client = new HttpClient(new SocketsHttpHandler
        {
            // The sidecar writes traceparent itself, per hop; HttpClient must not add its own.
            ActivityHeadersPropagator = DistributedContextPropagator.CreateNoOutputPropagator(),
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(90),
            ConnectTimeout = TimeSpan.FromSeconds(5),
        })
        {
            BaseAddress = BaseAddress,
            // Invocations stream and may be long-lived; callers bound them with their own tokens.
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public Uri BaseAddress { get; }
    public string Address { get; }
    public int Port { get; }
    public string? AppApiToken { get; }

    public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (AppApiToken is not null)
        {
            request.Headers.TryAddWithoutValidation("dapr-api-token", AppApiToken);
        }
        return _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    /// <summary>True when the app's port accepts a TCP connection, daprd's readiness signal for the app.</summary>
    public async Task<bool> IsListeningAsync(CancellationToken cancellationToken)
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(1));
            await socket.ConnectAsync(Address, Port, timeout.Token);
            return true;
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    public void Dispose() => _client.Dispose();
}
