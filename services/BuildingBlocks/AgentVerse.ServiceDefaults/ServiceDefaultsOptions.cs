using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace AgentVerse.ServiceDefaults;

/// <summary>Settings every AgentVerse service shares, bound from the <c>AgentVerse</c> configuration section.</summary>
public sealed class ServiceDefaultsOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "AgentVerse";

    /// <summary>4 MiB: enough for any JSON request the APIs take; documents are uploaded in pieces.</summary>
    public const long DefaultMaxRequestBodyBytes = 4 * 1024 * 1024;

    /// <summary>
    /// The Dapr app id (<c>gateway</c>, <c>agents</c> …), also the OpenTelemetry <c>service.name</c>.
    /// The <c>APP_ID</c> environment variable set by Dapr and the local launcher wins over the configured value.
    /// </summary>
    [Required]
    [RegularExpression("^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", ErrorMessage = "AppId must be a lower-case DNS label, as Dapr app ids are.")]
    public string AppId { get; set; } = "";

    /// <summary>Largest request body Kestrel accepts, in bytes; larger requests get 413.</summary>
    [Range(1, long.MaxValue)]
    public long MaxRequestBodyBytes { get; set; } = DefaultMaxRequestBodyBytes;
}

/// <summary>Checks <see cref="ServiceDefaultsOptions"/> on start (source-generated).</summary>
[OptionsValidator]
public sealed partial class ServiceDefaultsOptionsValidator : IValidateOptions<ServiceDefaultsOptions>;
