using System.ComponentModel.DataAnnotations;

namespace AgentVerse.Gateway;

/// <summary>The gateway's own settings, bound from the <c>Gateway</c> section.</summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    /// <summary>Dapr state store holding users, sessions and refresh tokens.</summary>
    [Required]
    public string StateStore { get; set; } = "statestore";

    /// <summary>Dapr secret store holding the token signing keys.</summary>
    [Required]
    public string SecretStore { get; set; } = "secretstore";

    /// <summary>Secret holding the current ES256 (P-256) signing key as a PKCS#8 PEM.</summary>
    [Required]
    public string SigningKeySecret { get; set; } = "gateway-jwt-signing-key";

    /// <summary>Secret holding the previous signing key, still published in the JWKS during a rotation (optional).</summary>
    [Required]
    public string PreviousSigningKeySecret { get; set; } = "gateway-jwt-signing-key-previous";

    /// <summary>
    /// When the signing key secret is missing: generate one. In a local run it is then written to
    /// <see cref="LocalSecretsFile"/> so restarts keep it. Set to false where keys are provisioned (Kubernetes).
    /// </summary>
    public bool GenerateMissingSigningKey { get; set; } = true;

    /// <summary>The local secret store's JSON file, written only when the signing key is missing; empty keeps a generated key in memory.</summary>
    public string LocalSecretsFile { get; set; } = ".agentverse/secrets.json";

    /// <summary>Access token lifetime.</summary>
    [Range(1, 60)]
    public int AccessTokenMinutes { get; set; } = 15;

    /// <summary>Refresh token (and session) lifetime.</summary>
    [Range(1, 90)]
    public int RefreshTokenDays { get; set; } = 7;

    /// <summary>Refresh token (and session) lifetime when the user asked to be remembered.</summary>
    [Range(1, 365)]
    public int RememberMeRefreshTokenDays { get; set; } = 30;

    /// <summary>Failed logins for one email within <see cref="LockoutWindowMinutes"/> that lock it.</summary>
    [Range(1, 100)]
    public int LockoutMaxFailures { get; set; } = 5;

    [Range(1, 1440)]
    public int LockoutWindowMinutes { get; set; } = 15;

    /// <summary>How long a locked email is refused (429 with Retry-After), whatever the password.</summary>
    [Range(1, 1440)]
    public int LockoutMinutes { get; set; } = 15;

    /// <summary>Shortest password accepted.</summary>
    [Range(8, 128)]
    public int MinPasswordLength { get; set; } = 12;
}
