using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

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

    /// <summary>
    /// During a key rotation, the secret holding the previous signing key, still published in the JWKS so tokens it
    /// signed keep validating until they expire; empty (the default) when no rotation is under way.
    /// </summary>
    public string PreviousSigningKeySecret { get; set; } = "";

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

[OptionsValidator]
public sealed partial class GatewayOptionsValidator : IValidateOptions<GatewayOptions>;
