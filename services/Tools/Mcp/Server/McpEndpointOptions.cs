using System.ComponentModel.DataAnnotations;

namespace AgentVerse.Tools.Mcp.Server;

/// <summary>The MCP endpoint's settings, section <c>Mcp:Server</c>.</summary>
internal sealed class McpEndpointOptions
{
    public const string SectionName = "Mcp:Server";

    /// <summary>
    /// A session no request touched for this long is ended; its id then gets 404. The SDK checks every 5 seconds,
    /// so a session ends up to 5 seconds later than this.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan SessionIdleTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Tools per <c>tools/list</c> page.</summary>
    [Range(1, 1000)]
    public int PageSize { get; set; } = 50;

    /// <summary>
    /// Browser origins allowed to call <c>/mcp</c> (an <c>Origin</c> header elsewhere gets 403). Requests without
    /// <c>Origin</c> (non-browser clients, the gateway) pass.
    /// </summary>
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary>
    /// Host names the endpoint answers to (DNS-rebinding protection); loopback is always allowed, since the sidecar
    /// calls the app there.
    /// </summary>
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>
    /// Idle sessions kept at most, so abandoned ones cannot exhaust memory before they expire: past it the oldest
    /// idle sessions end early (the SDK's <c>MaxIdleSessionCount</c>).
    /// </summary>
    [Range(1, 1_000_000)]
    public int MaxSessions { get; set; } = 10_000;

    /// <summary>Cap on one user's concurrent sessions, so one user cannot take every session slot.</summary>
    [Range(1, 100_000)]
    public int MaxSessionsPerUser { get; set; } = 100;
}
