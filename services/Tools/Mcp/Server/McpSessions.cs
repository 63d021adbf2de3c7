using System.Collections.Concurrent;
using AgentVerse.Tools.Apis;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AgentVerse.Tools.Mcp.Server;

/// <summary>
/// One session of the SDK's (protocol 2025-11-25 and earlier), as known here while its server runs: whose it is,
/// its GET stream, and a <c>tools/list_changed</c> waiting for that stream.
/// </summary>
internal sealed class McpSession(string id, string userId, bool isAdmin, McpServer server, CancellationToken sessionClosed) : IDisposable
{
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _ending = CancellationTokenSource.CreateLinkedTokenSource(sessionClosed);
    private StreamState _stream;
    private bool _toolsChangedPending;

    private enum StreamState
    {
        None,
        Claimed,
        Open,
    }

    public string Id { get; } = id;

    public string UserId { get; } = userId;

    public bool IsAdmin { get; } = isAdmin;

    public McpServer Server { get; } = server;

    /// <summary>Cancelled when the SDK closes the session or <see cref="End"/> is called: its server then stops.</summary>
    public CancellationToken Ending => _ending.Token;

    /// <summary>Claims the session's one GET stream (the SDK serves one per session); false when it is claimed or was open.</summary>
    public bool TryClaimStream()
    {
        lock (_gate)
        {
            if (_stream != StreamState.None)
            {
                return false;
            }

            _stream = StreamState.Claimed;
            return true;
        }
    }

    /// <summary>Gives the claim back when the SDK refused the GET (406 and the like), so a corrected GET may follow.</summary>
    public void ReleaseUnopenedStream()
    {
        lock (_gate)
        {
            if (_stream == StreamState.Claimed)
            {
                _stream = StreamState.None;
            }
        }
    }

    /// <summary>Marks the GET stream open; true when a change announced before it opened must now be sent on it.</summary>
    public bool StreamOpened()
    {
        lock (_gate)
        {
            _stream = StreamState.Open;
            var announce = _toolsChangedPending;
            _toolsChangedPending = false;
            return announce;
        }
    }

    /// <summary>
    /// Sends <c>notifications/tools/list_changed</c>, or keeps it for the GET stream if none is open yet: the SDK
    /// drops unsolicited notifications until then, and a client that has just initialized would miss the change.
    /// </summary>
    public Task NotifyToolsChangedAsync()
    {
        lock (_gate)
        {
            if (_stream != StreamState.Open)
            {
                _toolsChangedPending = true;
                return Task.CompletedTask;
            }
        }

        return SendToolsChangedAsync();
    }

    public Task SendToolsChangedAsync() => Server.SendNotificationAsync(NotificationMethods.ToolListChangedNotification, Ending);

    /// <summary>Stops the session's server; the SDK's idle expiry removes what is left of it.</summary>
    public void End()
    {
        try
        {
            _ending.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // It ended meanwhile.
        }
    }

    public void Dispose() => _ending.Dispose();
}

/// <summary>
/// The SDK's open sessions, each bound to the user who opened it (<see cref="RunAsync"/> is the SDK's
/// <c>RunSessionHandler</c>), and <see cref="McpToolListChanges"/> forwarded to the sessions of the users concerned
/// as <c>notifications/tools/list_changed</c>. The SDK itself keeps no per-user index and has no hook for either.
/// </summary>
internal sealed class McpSessions
{
    private readonly ConcurrentDictionary<string, McpSession> _sessions = new(StringComparer.Ordinal);
    private readonly ILogger<McpSessions> _logger;

    public McpSessions(McpToolListChanges changes, ILogger<McpSessions> logger)
    {
        _logger = logger;
        changes.Changed += affects => _ = NotifyToolsChangedAsync(affects);
    }

    /// <summary>
    /// Runs the server of a new session, or of one stateless (2026-07-28) request, which has no session id. Called
    /// while the SDK handles the request that opens the session, so the session is known here before its id is
    /// sent to the client; it is forgotten when the SDK ends it (DELETE, idle expiry, shutdown).
    /// </summary>
    public async Task RunAsync(HttpContext http, McpServer server, CancellationToken sessionClosed)
    {
        if (server.SessionId is not { } id)
        {
            await server.RunAsync(sessionClosed);
            return;
        }

        var (userId, isAdmin) = http.User.Caller();
        using var session = new McpSession(id, userId, isAdmin, server, sessionClosed);
        _sessions[id] = session;
        try
        {
            await server.RunAsync(session.Ending);
        }
        finally
        {
            _sessions.TryRemove(id, out _);
        }
    }

    public bool TryGet(string id, out McpSession session) => _sessions.TryGetValue(id, out session!);

    public int CountOf(string userId) => _sessions.Values.Count(s => s.UserId == userId);

    /// <summary>Ends a session whose opening request failed after the SDK had created it.</summary>
    public void End(string id)
    {
        if (_sessions.TryGetValue(id, out var session))
        {
            session.End();
        }
    }

    /// <summary>Sends the change a session kept for its GET stream, now that the stream opened.</summary>
    public async Task AnnounceKeptChangeAsync(McpSession session)
    {
        if (session.StreamOpened())
        {
            await SendAsync(session, s => s.SendToolsChangedAsync());
        }
    }

    private async Task NotifyToolsChangedAsync(Func<string, bool, bool> affects)
    {
        foreach (var session in _sessions.Values.Where(s => affects(s.UserId, s.IsAdmin)))
        {
            await SendAsync(session, s => s.NotifyToolsChangedAsync());
        }
    }

    private async Task SendAsync(McpSession session, Func<McpSession, Task> send)
    {
        try
        {
            await send(session);
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException or IOException or OperationCanceledException)
        {
            // A session ending meanwhile misses nothing: its client re-lists on reconnect.
            _logger.LogDebug(e, "tools/list_changed not sent to MCP session {SessionId}", session.Id);
        }
    }
}
