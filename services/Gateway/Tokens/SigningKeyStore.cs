using System.Text.Json;
using System.Text.Json.Nodes;
using AgentVerse.Dapr;
using Microsoft.Extensions.Options;

namespace AgentVerse.Gateway.Tokens;

/// <summary>
/// The signing keys, read once from the Dapr secret store: the current key signs, the previous one (during a
/// rotation) is still published. A missing current key is generated when allowed, and written into the local
/// secrets file so the next start reads the same key.
/// </summary>
public sealed class SigningKeyStore(
    DaprClient dapr,
    IOptions<GatewayOptions> options,
    IHostEnvironment environment,
    ILogger<SigningKeyStore> logger) : IDisposable
{
    private readonly SemaphoreSlim _load = new(1, 1);
    private SigningKeys? _keys;

    /// <summary>The keys; loaded on first use (the sidecar may come up after the gateway).</summary>
    public async ValueTask<SigningKeys> GetAsync(CancellationToken cancellationToken)
    {
        if (_keys is { } keys)
        {
            return keys;
        }

        await _load.WaitAsync(cancellationToken);
        try
        {
            return _keys ??= await LoadAsync(cancellationToken);
        }
        finally
        {
            _load.Release();
        }
    }

    public void Dispose()
    {
        _load.Dispose();
        _keys?.Current.Dispose();
        _keys?.Previous?.Dispose();
    }

    private async Task<SigningKeys> LoadAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var current = await ReadAsync(settings.SigningKeySecret, cancellationToken);
        var previous = await ReadAsync(settings.PreviousSigningKeySecret, cancellationToken);
        if (current is null)
        {
            if (!settings.GenerateMissingSigningKey)
            {
                throw new InvalidOperationException(
                    $"Secret '{settings.SigningKeySecret}' is missing from secret store '{settings.SecretStore}' and Gateway:GenerateMissingSigningKey is false.");
            }

            var generated = SigningKey.Generate();
            current = generated;
            await PersistAsync(settings, generated, cancellationToken);
        }

        logger.LogInformation("Signing with key {KeyId}; previous key {PreviousKeyId}", current.KeyId, previous?.KeyId ?? "(none)");
        return new SigningKeys(current, previous);
    }

    private async Task<SigningKey?> ReadAsync(string secretName, CancellationToken cancellationToken)
    {
        Dictionary<string, string> secret;
        try
        {
            secret = await dapr.GetSecretAsync(options.Value.SecretStore, secretName, cancellationToken: cancellationToken);
        }
        catch (DaprApiException ex) when (ex.ErrorCode == "ERR_SECRET_GET")
        {
            // daprd answers a missing secret with ERR_SECRET_GET.
            return null;
        }

        return secret.TryGetValue(secretName, out var pem) && !string.IsNullOrWhiteSpace(pem) ? SigningKey.FromPem(pem)
            : secret.Values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v)) is { } only ? SigningKey.FromPem(only)
            : null;
    }

    private async Task PersistAsync(GatewayOptions settings, SigningKey key, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(settings.LocalSecretsFile))
        {
            logger.LogWarning("Generated signing key {KeyId} is kept in memory only: tokens will not survive a restart", key.KeyId);
            return;
        }

        var path = Path.IsPathRooted(settings.LocalSecretsFile)
            ? settings.LocalSecretsFile
            : Path.GetFullPath(settings.LocalSecretsFile, Directory.GetCurrentDirectory());
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var document = File.Exists(path) && JsonNode.Parse(await File.ReadAllTextAsync(path, cancellationToken)) is JsonObject existing
            ? existing
            : [];
        document[settings.SigningKeySecret] = key.ExportPem();

        // Write beside, then rename: the secret store must never read a half-written file.
        var temporary = path + ".tmp";
        await File.WriteAllTextAsync(temporary, document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), cancellationToken);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(temporary, path, overwrite: true);
        logger.LogWarning("Generated signing key {KeyId} and stored it as secret {Secret} in {File} ({Environment})",
            key.KeyId, settings.SigningKeySecret, path, environment.EnvironmentName);
    }
}

/// <summary>The key that signs and the one still accepted from before a rotation.</summary>
public sealed record SigningKeys(SigningKey Current, SigningKey? Previous)
{
    public IEnumerable<SigningKey> All => Previous is null ? [Current] : [Current, Previous];
}
