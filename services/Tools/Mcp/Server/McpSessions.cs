using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AgentVerse.Tools.Mcp.Server;

/// <summary>One session-based MCP connection (protocol 2025-11-25 and earlier), bound to the user who opened it.</summary>
internal sealed class McpSession(string id, string userId, bool isAdmin, StreamableHttpServerTransport transport, McpServer server, TimeProvider clock) : IAsyncDisposable
{
    private readonly Lock _streamGate = new();
    private int _active;
    private long _lastUsedTicks = clock.GetUtcNow().UtcTicks;
    private bool _streamClaimed;
    private bool _streamOpen;
    private bool _toolsChangedPending;

    public string Id { get; } = id;

    public string UserId { get; } = userId;

    public bool IsAdmin { get; } = isAdmin;

    public StreamableHttpServerTransport Transport { get; } = transport;

    public McpServer Server { get; } = server;

    public Task Run { get; set; } = Task.CompletedTask;

    public DateTimeOffset LastUsed => new(Interlocked.Read(ref _lastUsedTicks), TimeSpan.Zero);

    /// <summary>Whether a request (a GET stream included) is under way, which keeps the session alive.</summary>
    public bool InUse => Volatile.Read(ref _active) > 0;

    /// <summary>Marks a request under way until the returned scope is disposed.</summary>
    public IDisposable Use()
    {
        Interlocked.Increment(ref _active);
        Touch();
        return new Release(this);
    }

    /// <summary>Claims the session's one GET stream (the SDK serves one per session); false when it was claimed before.</summary>
    public bool TryClaimStream()
    {
        lock (_streamGate)
        {
            var claimed = !_streamClaimed;
            _streamClaimed = true;
            return claimed;
        }
    }

    /// <summary>
    /// Serves the claimed GET stream until the client leaves. A change announced before the stream opened is sent
    /// on it first: the SDK refuses unsolicited messages until then, and a client that has just initialized would
    /// otherwise miss it.
    /// </summary>
    public async Task StreamAsync(Stream body, CancellationToken cancellationToken)
    {
        // The transport takes the stream before its first await, so sends may follow at once.
        var streaming = Transport.HandleGetRequestAsync(body, cancellationToken);
        bool announce;
        lock (_streamGate)
        {
            _streamOpen = true;
            announce = _toolsChangedPending;
            _toolsChangedPending = false;
        }

        if (announce)
        {
            try
            {
                await Server.SendNotificationAsync(NotificationMethods.ToolListChangedNotification, cancellationToken);
            }
            catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException or IOException)
            {
                // The stream failed at once; the transport's own task below reports how.
            }
        }

        await streaming;
    }

    /// <summary>Sends <c>notifications/tools/list_changed</c>, or keeps it for the GET stream if none is open yet.</summary>
    public Task NotifyToolsChangedAsync()
    {
        lock (_streamGate)
        {
            if (!_streamOpen)
            {
                _toolsChangedPending = true;
                return Task.CompletedTask;
            }
        }

        return Server.SendNotificationAsync(NotificationMethods.ToolListChangedNotification);
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await Transport.DisposeAsync();
    }

    private void Touch() => Interlocked.Exchange(ref _lastUsedTicks, clock.GetUtcNow().UtcTicks);

    private sealed class Release(McpSession session) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                session.Touch();
                Interlocked.Decrement(ref session._active);
            }
        }
    }
}

/// <summary>
/// The open sessions: ends those idle past <see cref="McpEndpointOptions.SessionIdleTimeout"/> and forwards
/// <see cref="McpToolListChanges"/> to the sessions of the user concerned as <c>notifications/tools/list_changed</c>.
/// </summary>
internal sealed class McpSessions : BackgroundService
{
    private readonly ConcurrentDictionary<string, McpSession> _sessions = new(StringComparer.Ordinal);
    private readonly IOptions<McpEndpointOptions> _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<McpSessions> _logger;

    public McpSessions(IOptions<McpEndpointOptions> options, TimeProvider clock, McpToolListChanges changes, ILogger<McpSessions> logger)
    {
        _options = options;
        _clock = clock;
        _logger = logger;
        changes.Changed += affects => _ = NotifyToolsChangedAsync(affects);
    }

    public int Count => _sessions.Count;

    public bool TryAdd(McpSession session) =>
        _sessions.Count < _options.Value.MaxSessions
        && _sessions.Values.Count(s => s.UserId == session.UserId) < _options.Value.MaxSessionsPerUser
        && _sessions.TryAdd(session.Id, session);

    public bool TryGet(string id, out McpSession session) => _sessions.TryGetValue(id, out session!);

    public async Task<bool> EndAsync(string id)
    {
        if (!_sessions.TryRemove(id, out var session))
        {
            return false;
        }

        await session.DisposeAsync();
        return true;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var timeout = _options.Value.SessionIdleTimeout;
        using var timer = new PeriodicTimer(TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond, timeout.Ticks / 4)), _clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var now = _clock.GetUtcNow();
                foreach (var session in _sessions.Values.Where(s => !s.InUse && now - s.LastUsed > timeout))
                {
                    _logger.LogInformation("MCP session {SessionId} expired after {IdleTimeout} idle", session.Id, timeout);
                    await EndAsync(session.Id);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        foreach (var id in _sessions.Keys)
        {
            await EndAsync(id);
        }
    }

    private async Task NotifyToolsChangedAsync(Func<string, bool, bool> affects)
    {
        foreach (var session in _sessions.Values.Where(s => affects(s.UserId, s.IsAdmin)))
        {
            try
            {
                await session.NotifyToolsChangedAsync();
            }
            catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException or IOException)
            {
                // A session ending meanwhile misses nothing: its client re-lists on reconnect.
                _logger.LogDebug(e, "tools/list_changed not sent to MCP session {SessionId}", session.Id);
            }
        }
    }
}
