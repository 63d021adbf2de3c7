using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace AgentVerse.Tools;

/// <summary>Settings of the tools service, bound from <c>Tools</c>.</summary>
public sealed class ToolsOptions
{
    public const string SectionName = "Tools";

    [Required]
    public string StateStore { get; set; } = "statestore";

    [Required]
    public string PubSub { get; set; } = "pubsub";

    [Required]
    public string SecretStore { get; set; } = "secretstore";

    /// <summary>Secret holding the base64 256-bit key that encrypts custom tools' API keys at rest (AES-GCM).</summary>
    [Required]
    public string ApiKeyEncryptionSecret { get; set; } = "tools-api-key-encryption-key";

    [Required]
    public string ExecutedTopic { get; set; } = "tool.executed";

    [Range(1, 600_000)]
    public int DefaultTimeoutMs { get; set; } = 10_000;

    /// <summary>Upper bound of a request's <c>timeout</c>.</summary>
    [Range(1, 600_000)]
    public int MaxTimeoutMs { get; set; } = 30_000;

    /// <summary>Executions waiting to be recorded; a full queue makes requests wait rather than lose records.</summary>
    [Range(1, 1_000_000)]
    public int RecordQueueCapacity { get; set; } = 10_000;

    /// <summary>
    /// How long the writer waits for more executions before saving a batch that is not full. Each batch costs a few
    /// sidecar calls (each user's index head and bucket, the transaction, the bulk publish), so under load a longer
    /// wait is much cheaper per execution; records become visible that much later.
    /// </summary>
    [Range(0, 1_000)]
    public int RecordBatchDelayMs { get; set; } = 20;

    /// <summary>Execution ids kept in a user's index (the newest).</summary>
    [Range(1, 100_000)]
    public int UserIndexLimit { get; set; } = 1_000;

    [Range(1, 10_000)]
    public int MaxToolsPerUser { get; set; } = 200;

    [ValidateObjectMembers]
    public OutboundHttpOptions Http { get; set; } = new();
}

/// <summary>Checks <see cref="ToolsOptions"/> and its nested <see cref="OutboundHttpOptions"/> (source-generated).</summary>
[OptionsValidator]
public sealed partial class ToolsOptionsValidator : IValidateOptions<ToolsOptions>;

/// <summary>Outbound HTTP of <c>http_request</c> and custom tools (SSRF protection).</summary>
public sealed class OutboundHttpOptions
{
    [Range(1, 100 * 1024 * 1024)]
    public int MaxResponseBytes { get; set; } = 1024 * 1024;

    [Range(1, 600_000)]
    public int TimeoutMs { get; set; } = 10_000;

    [Range(0, 5)]
    public int MaxRedirects { get; set; } = 5;

    /// <summary>Request headers a caller may set (case-insensitive).</summary>
    public IList<string> AllowedRequestHeaders { get; } = ["Accept", "Accept-Language", "Content-Type", "User-Agent", "If-None-Match", "If-Modified-Since"];

    /// <summary>Networks (CIDR, e.g. <c>10.1.0.0/16</c>) otherwise refused that tools may reach.</summary>
    public IList<string> AllowedNetworks { get; } = [];

    /// <summary>Single endpoints (<c>127.0.0.1:8080</c>, <c>[::1]:8080</c>) otherwise refused that tools may reach.</summary>
    public IList<string> AllowedEndpoints { get; } = [];
}
