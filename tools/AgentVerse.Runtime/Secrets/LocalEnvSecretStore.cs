using System.Collections;
using AgentVerse.Runtime.Components;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentVerse.Runtime.Secrets;

/// <summary>
/// <c>secretstores.local.env</c>: the process environment as secrets, as components-contrib's env store.
/// With <c>prefix</c>, a secret <c>NAME</c> is the variable <c>prefix + NAME</c> and bulk get lists only prefixed
/// variables, prefix stripped (matched case-insensitively on Windows only). <c>APP_API_TOKEN</c> and <c>DAPR_*</c>
/// (checked on the full variable name, any case) are never exposed.
/// </summary>
/// <remarks>
/// As in daprd, a missing or forbidden variable is not an error: the secret comes back as <c>{name: ""}</c>.
/// </remarks>
public sealed class LocalEnvSecretStore(string? prefix = null, ILogger? logger = null) : ISecretStore
{
    private readonly string _prefix = prefix ?? "";
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    /// <summary>Creates the store from component metadata (<c>prefix</c>, optional).</summary>
    public static LocalEnvSecretStore Create(ComponentDefinition definition, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return new LocalEnvSecretStore(definition.Get("prefix"), logger);
    }

    public Task<IReadOnlyDictionary<string, string>> GetSecretAsync(string name, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        var variable = _prefix + name;
        var value = "";
        if (IsAllowed(variable))
        {
            value = Environment.GetEnvironmentVariable(variable) ?? "";
        }
        else
        {
            _logger.LogWarning("Access to env var {Name} is forbidden", name);
        }
        return Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string>(StringComparer.Ordinal) { [name] = value });
    }

    public Task<IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>> BulkGetSecretAsync(IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        // Windows environment names are case-insensitive, so daprd matches the prefix that way there only.
        var comparison = OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        var result = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            var variable = (string)entry.Key;
            if (_prefix.Length > 0 && (variable.Length <= _prefix.Length || !variable.StartsWith(_prefix, comparison)))
            {
                continue;
            }
            if (!IsAllowed(variable))
            {
                continue;
            }
            var name = variable[_prefix.Length..];
            result[name] = new Dictionary<string, string>(StringComparer.Ordinal) { [name] = (string?)entry.Value ?? "" };
        }
        return Task.FromResult<IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>>(result);
    }

    private static bool IsAllowed(string variable)
    {
        var upper = variable.ToUpperInvariant();
        return upper != "APP_API_TOKEN" && !upper.StartsWith("DAPR_", StringComparison.Ordinal);
    }
}
