using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentVerse.Runtime.Secrets;

/// <summary>
/// The secrets AgentVerse's services read from the secret store at start-up, and how a fresh one is made. On one
/// machine the launcher (<c>agentverse up</c>) writes the missing ones into the local secrets file before the
/// services start, so a restart keeps them; services themselves never write secrets. In a cluster they are
/// provisioned like any other secret (Kubernetes secrets, a vault).
/// </summary>
public static class PlatformSecrets
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>The gateway's ES256 (P-256) token signing key, PKCS#8 PEM.</summary>
    public const string GatewaySigningKey = "gateway-jwt-signing-key";

    /// <summary>The tools service's AES-256 key that encrypts custom tools' API keys at rest, base64.</summary>
    public const string ToolsApiKeyEncryptionKey = "tools-api-key-encryption-key";

    /// <summary>Every platform secret with a generator of a fresh value.</summary>
    public static IReadOnlyDictionary<string, Func<string>> All { get; } = new Dictionary<string, Func<string>>(StringComparer.Ordinal)
    {
        [GatewaySigningKey] = () =>
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            return key.ExportPkcs8PrivateKeyPem();
        },
        [ToolsApiKeyEncryptionKey] = () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
    };

    /// <summary>A fresh value of every platform secret, as a local secrets file's JSON object.</summary>
    public static JsonObject Generate()
    {
        var secrets = new JsonObject();
        foreach (var (name, generate) in All)
        {
            secrets[name] = generate();
        }
        return secrets;
    }

    /// <summary>
    /// Adds the platform secrets missing from <paramref name="secretsFile"/> (a <c>secretstores.local.file</c> JSON
    /// object, created when absent), keeping everything already there. Written to a temporary file readable by the
    /// owner only, then renamed over the old one, so the secret store never reads a half-written file. Returns the
    /// names it added; running it again adds nothing.
    /// </summary>
    /// <exception cref="InvalidDataException">the file exists but is not a JSON object</exception>
    public static async Task<IReadOnlyList<string>> ProvisionAsync(string secretsFile, CancellationToken cancellationToken)
    {
        JsonObject secrets;
        if (File.Exists(secretsFile))
        {
            try
            {
                secrets = JsonNode.Parse(await File.ReadAllTextAsync(secretsFile, cancellationToken)) as JsonObject
                    ?? throw new InvalidDataException($"{secretsFile} must hold a JSON object of secrets");
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{secretsFile} is not valid JSON: {e.Message}", e);
            }
        }
        else
        {
            secrets = [];
        }

        var added = All.Keys.Where(name => !secrets.ContainsKey(name)).ToList();
        if (added.Count == 0 && File.Exists(secretsFile))
        {
            return added;
        }
        foreach (var name in added)
        {
            secrets[name] = All[name]();
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(secretsFile))!);
        var temporary = secretsFile + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        await using (var file = new FileStream(temporary, options))
        {
            await JsonSerializer.SerializeAsync(file, secrets, Indented, cancellationToken);
        }
        File.Move(temporary, secretsFile, overwrite: true);
        return added;
    }
}
