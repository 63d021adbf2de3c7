using System.Security.Cryptography;
using System.Text;
using AgentVerse.ServiceDefaults.Secrets;
using Dapr.Client;
using Microsoft.Extensions.Options;

namespace AgentVerse.Tools.Registry;

/// <summary>
/// Encrypts custom tools' API keys at rest with AES-256-GCM, bound to the tool id (associated data), under a key
/// read from the secret store when the service starts (the local secret store is read-only through Dapr, so the
/// keys themselves cannot live there). A missing or malformed key stops start-up with an error naming its secret.
/// </summary>
public sealed class ApiKeyProtector(DaprClient dapr, IOptions<ToolsOptions> options) : IStartupLoader, IDisposable
{
    private const string Prefix = "v1:";
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly SemaphoreSlim _loading = new(1, 1);
    private byte[]? _key;

    public void Dispose() => _loading.Dispose();

    public async Task<string> EncryptAsync(string toolId, string apiKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(apiKey);
        var key = await KeyAsync(cancellationToken);
        var plaintext = Encoding.UTF8.GetBytes(apiKey);
        var output = new byte[NonceSize + plaintext.Length + TagSize];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(nonce, plaintext, output.AsSpan(NonceSize, plaintext.Length), output.AsSpan(NonceSize + plaintext.Length), Encoding.UTF8.GetBytes(toolId));
        return Prefix + Convert.ToBase64String(output);
    }

    public async Task<string> DecryptAsync(string toolId, string protectedKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(protectedKey);
        var key = await KeyAsync(cancellationToken);
        var input = Convert.FromBase64String(protectedKey[Prefix.Length..]);
        var length = input.Length - NonceSize - TagSize;
        var plaintext = new byte[length];
        using var aes = new AesGcm(key, TagSize);
        aes.Decrypt(input.AsSpan(0, NonceSize), input.AsSpan(NonceSize, length), input.AsSpan(NonceSize + length), plaintext, Encoding.UTF8.GetBytes(toolId));
        return Encoding.UTF8.GetString(plaintext);
    }

    public async Task LoadAsync(CancellationToken cancellationToken) => await KeyAsync(cancellationToken);

    private async Task<byte[]> KeyAsync(CancellationToken cancellationToken)
    {
        if (_key is { } cached)
        {
            return cached;
        }

        await _loading.WaitAsync(cancellationToken);
        try
        {
            if (_key is null)
            {
                var name = options.Value.ApiKeyEncryptionSecret;
                var value = await dapr.GetRequiredSecretAsync(options.Value.SecretStore, name, cancellationToken);
                byte[] key;
                try
                {
                    key = Convert.FromBase64String(value);
                }
                catch (FormatException)
                {
                    key = [];
                }

                _key = key.Length == 32
                    ? key
                    : throw new InvalidOperationException($"Secret '{name}' must hold a base64-encoded 256-bit key to store API keys.");
            }

            return _key;
        }
        finally
        {
            _loading.Release();
        }
    }
}
