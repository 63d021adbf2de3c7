using AgentVerse.ServiceDefaults.Secrets;
using Dapr.Client;
using Microsoft.Extensions.Options;

namespace AgentVerse.Gateway.Tokens;

/// <summary>
/// The signing keys, read from the Dapr secret store when the gateway starts: the current key signs, the previous
/// one (during a rotation, when <see cref="GatewayOptions.PreviousSigningKeySecret"/> names it) is still published.
/// A key that cannot be read stops start-up with an error naming its secret; the gateway never makes or writes keys
/// (a local run's <c>agentverse up</c> provisions them).
/// </summary>
public sealed class SigningKeyStore(DaprClient dapr, IOptions<GatewayOptions> options, ILogger<SigningKeyStore> logger) : IStartupLoader, IDisposable
{
    private readonly SemaphoreSlim _load = new(1, 1);
    private SigningKeys? _keys;

    /// <summary>The keys, loaded at start-up (or on first use where nothing ran the start-up loaders).</summary>
    public async ValueTask<SigningKeys> GetAsync(CancellationToken cancellationToken)
    {
        if (_keys is { } keys)
        {
            return keys;
        }

        await LoadAsync(cancellationToken);
        return _keys!;
    }

    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        await _load.WaitAsync(cancellationToken);
        try
        {
            if (_keys is not null)
            {
                return;
            }

            var settings = options.Value;
            var current = await ReadAsync(settings.SigningKeySecret, cancellationToken);
            var previous = string.IsNullOrEmpty(settings.PreviousSigningKeySecret) ? null : await ReadAsync(settings.PreviousSigningKeySecret, cancellationToken);
            logger.LogInformation("Signing with key {KeyId}; previous key {PreviousKeyId}", current.KeyId, previous?.KeyId ?? "(none)");
            _keys = new SigningKeys(current, previous);
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

    private async Task<SigningKey> ReadAsync(string secretName, CancellationToken cancellationToken)
    {
        var pem = await dapr.GetRequiredSecretAsync(options.Value.SecretStore, secretName, cancellationToken);
        try
        {
            return SigningKey.FromPem(pem);
        }
        catch (Exception e) when (e is ArgumentException or System.Security.Cryptography.CryptographicException)
        {
            throw new InvalidOperationException($"Secret '{secretName}' does not hold a P-256 private key in PEM: {e.Message}", e);
        }
    }
}

/// <summary>The key that signs and the one still accepted from before a rotation.</summary>
public sealed record SigningKeys(SigningKey Current, SigningKey? Previous)
{
    public IEnumerable<SigningKey> All => Previous is null ? [Current] : [Current, Previous];
}
