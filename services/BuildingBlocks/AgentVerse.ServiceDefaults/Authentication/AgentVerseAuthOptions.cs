using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace AgentVerse.ServiceDefaults.Authentication;

/// <summary>
/// How every service validates the gateway's access tokens, bound from <c>AgentVerse:Auth</c>. The gateway issues
/// with the same <see cref="Issuer"/> and <see cref="Audience"/>, so one setting keeps both sides in step.
/// </summary>
public sealed class AgentVerseAuthOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "AgentVerse:Auth";

    /// <summary>The <c>iss</c> claim the gateway writes and every service requires.</summary>
    [Required]
    public string Issuer { get; set; } = "agentverse-gateway";

    /// <summary>The <c>aud</c> claim the gateway writes and every service requires.</summary>
    [Required]
    public string Audience { get; set; } = "agentverse";

    /// <summary>Tolerated clock difference when checking <c>exp</c> and <c>nbf</c>, in seconds (at most 30).</summary>
    [Range(0, 30)]
    public int ClockSkewSeconds { get; set; } = 30;

    /// <summary>The Dapr app id serving the key set (the gateway).</summary>
    [Required]
    public string JwksAppId { get; set; } = "gateway";

    /// <summary>The key set's path on <see cref="JwksAppId"/>, invoked through Dapr.</summary>
    [Required]
    public string JwksPath { get; set; } = ".well-known/jwks.json";

    /// <summary>How long a fetched key set is used before it is fetched again, in seconds.</summary>
    [Range(1, 86_400)]
    public int JwksRefreshSeconds { get; set; } = 300;

    /// <summary>
    /// Least time between two fetches caused by a token with an unknown <c>kid</c>, in seconds, so a stream of
    /// forged tokens cannot turn into a stream of calls to the gateway.
    /// </summary>
    [Range(0, 3_600)]
    public int JwksMinRefreshSeconds { get; set; } = 5;

    /// <summary>The path, on <see cref="JwksAppId"/>, answering <c>{"revoked": bool}</c> for <c>{path}/{sid}</c>.</summary>
    [Required]
    public string SessionStatusPath { get; set; } = "internal/sessions";

    /// <summary>
    /// How long a session's status is cached, in seconds: the bound on how stale a revocation can be in a service
    /// that missed the <see cref="SessionRevokedTopic"/> event.
    /// </summary>
    [Range(0, 300)]
    public int SessionStatusCacheSeconds { get; set; } = 5;

    /// <summary>The pub/sub component carrying <see cref="SessionRevokedTopic"/>.</summary>
    [Required]
    public string PubSubName { get; set; } = "pubsub";

    /// <summary>The topic on which the gateway announces a revoked session (<c>{"sessionId": "…"}</c>).</summary>
    [Required]
    public string SessionRevokedTopic { get; set; } = "session.revoked";

    /// <summary>Request paths (prefixes, by segment) that need an authenticated caller unless an endpoint says otherwise.</summary>
    public IList<string> ProtectedPathPrefixes { get; } = ["/api", "/mcp"];
}

/// <summary>Checks <see cref="AgentVerseAuthOptions"/> on start (source-generated).</summary>
[OptionsValidator]
public sealed partial class AgentVerseAuthOptionsValidator : IValidateOptions<AgentVerseAuthOptions>;
