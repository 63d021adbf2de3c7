using System.Collections.Concurrent;
using System.Text.Json;
using AgentVerse.Tools.Execution;
using AgentVerse.Tools.Registry;
using Microsoft.Extensions.Options;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AgentVerse.Tools.Mcp.Client;

/// <summary>
/// Live MCP client connections to registered servers, one per server, opened on first use and reopened once
/// when a call finds the session gone (the remote restarted or expired it). HTTP connections go through
/// <see cref="AddressPolicy"/>, the same SSRF rules as <c>http_request</c>, checked on every connect.
/// </summary>
public sealed class McpConnections : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<Task<McpClient>>> _clients = new(StringComparer.Ordinal);
    private readonly ApiKeyProtector _keys;
    private readonly IOptions<McpClientSettings> _settings;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger<McpConnections> _logger;
    private readonly HttpClient _http;

    public McpConnections(AddressPolicy policy, ApiKeyProtector keys, IOptions<McpClientSettings> settings, ILoggerFactory loggerFactory)
    {
        _keys = keys;
        _settings = settings;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<McpConnections>();
        var sockets = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            ConnectCallback = policy.ConnectAsync,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
        _http = new HttpClient(new ResponseSizeLimitHandler(settings.Value.MaxResponseBytes, sockets)) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>Opens a fresh connection (not cached), for registration and refresh.</summary>
    public async Task<McpClient> OpenAsync(McpServerRecord server, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_settings.Value.ConnectTimeout);
        IClientTransport transport;
        if (server.IsStdio)
        {
            transport = new StdioClientTransport(new StdioClientTransportOptions
            {
                Name = server.Name,
                Command = server.Command[0],
                Arguments = [.. server.Command.Skip(1)],
                ShutdownTimeout = TimeSpan.FromSeconds(5),
                // Only the SDK's safe basics (PATH, HOME, …): never this service's DAPR_API_TOKEN or APP_API_TOKEN.
                InheritEnvironmentVariables = false,
                EnvironmentVariables = StdioClientTransportOptions.GetDefaultEnvironmentVariables(),
            }, _loggerFactory);
        }
        else
        {
            var headers = new Dictionary<string, string>();
            if (server.EncryptedApiKey is { } encrypted)
            {
                headers["Authorization"] = $"Bearer {await _keys.DecryptAsync(server.Id, encrypted, timeout.Token)}";
            }

            transport = new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = new Uri(server.Url),
                Name = server.Name,
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = headers,
                ConnectionTimeout = _settings.Value.ConnectTimeout,
            }, _http, _loggerFactory, ownsHttpClient: false);
        }

        return await McpClient.CreateAsync(transport, new McpClientOptions
        {
            ClientInfo = new Implementation { Name = "agentverse-tools", Version = "1.0.0" },
        }, _loggerFactory, timeout.Token);
    }

    /// <summary>Every tool the server lists (all pages).</summary>
    public static async Task<IReadOnlyList<McpRemoteTool>> DiscoverAsync(McpClient client, CancellationToken cancellationToken)
    {
        var tools = await client.ListToolsAsync(cancellationToken: cancellationToken);
        return [.. tools.Select(t => new McpRemoteTool(t.Name, t.Description ?? "", t.ProtocolTool.InputSchema, t.ProtocolTool.OutputSchema))];
    }

    /// <summary>Calls <paramref name="toolName"/> on <paramref name="server"/>, reconnecting once if the session was lost.</summary>
    public async Task<CallToolResult> CallToolAsync(McpServerRecord server, string toolName, IReadOnlyDictionary<string, JsonElement> arguments, CancellationToken cancellationToken)
    {
        var request = new CallToolRequestParams { Name = toolName, Arguments = arguments.ToDictionary() };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_settings.Value.CallTimeout);
        try
        {
            var client = await GetAsync(server, timeout.Token);
            try
            {
                return await client.CallToolAsync(request, timeout.Token);
            }
            catch (Exception e) when ((e is HttpRequestException or IOException or ObjectDisposedException or InvalidOperationException
                || (e is McpException && e is not McpProtocolException)) && ResponseTooLargeException.FoundIn(e) is null)
            {
                _logger.LogInformation("MCP server {ServerId} lost its session ({Error}); reconnecting", server.Id, e.Message);
                await ForgetAsync(server.Id, client);
                client = await GetAsync(server, timeout.Token);
                return await client.CallToolAsync(request, timeout.Token);
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new CallToolResult
            {
                Content = [new TextContentBlock { Text = $"The MCP server did not answer within {_settings.Value.CallTimeout.TotalSeconds:0.#} s." }],
                IsError = true,
            };
        }
    }

    /// <summary>Closes the cached connection of <paramref name="serverId"/>, if any.</summary>
    public Task ForgetAsync(string serverId) => ForgetAsync(serverId, expected: null);

    public async ValueTask DisposeAsync()
    {
        foreach (var id in _clients.Keys)
        {
            await ForgetAsync(id);
        }

        _http.Dispose();
    }

    private async Task<McpClient> GetAsync(McpServerRecord server, CancellationToken cancellationToken)
    {
        var lazy = _clients.GetOrAdd(server.Id, _ => new Lazy<Task<McpClient>>(() => OpenAsync(server, CancellationToken.None)));
        try
        {
            return await lazy.Value.WaitAsync(cancellationToken);
        }
        catch (Exception) when (lazy.Value.IsFaulted)
        {
            // A failed connect is not cached: the next call tries again.
            _clients.TryRemove(new KeyValuePair<string, Lazy<Task<McpClient>>>(server.Id, lazy));
            throw;
        }
    }

    private async Task ForgetAsync(string serverId, McpClient? expected)
    {
        if (!_clients.TryGetValue(serverId, out var lazy))
        {
            return;
        }

        if (expected is not null && (!lazy.Value.IsCompletedSuccessfully || lazy.Value.Result != expected))
        {
            return; // another caller reconnected already
        }

        if (_clients.TryRemove(new KeyValuePair<string, Lazy<Task<McpClient>>>(serverId, lazy)) && lazy.Value.IsCompletedSuccessfully)
        {
            try
            {
                await lazy.Value.Result.DisposeAsync();
            }
            catch (Exception e) when (e is HttpRequestException or IOException or McpException or OperationCanceledException)
            {
                _logger.LogDebug(e, "Closing MCP connection {ServerId} failed", serverId);
            }
        }
    }
}
