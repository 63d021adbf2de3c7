using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace AgentVerse.ServiceDefaults.Authentication;

/// <summary>
/// Hands the JWT bearer handler its signing keys from <see cref="ITokenKeySource"/> (the gateway's JWKS through Dapr)
/// in place of OpenID Connect discovery, which the gateway does not serve and services could not reach directly.
/// </summary>
internal sealed class KeySourceConfigurationManager(ITokenKeySource keys) : IConfigurationManager<OpenIdConnectConfiguration>
{
    private volatile Built? _built;

    public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(CancellationToken cancel)
    {
        // Key sources hand out the same list until their keys change: build the configuration once per list.
        var current = await keys.GetKeysAsync(keyId: null, cancel);
        if (_built is { } built && ReferenceEquals(built.Keys, current))
        {
            return built.Configuration;
        }

        var configuration = new OpenIdConnectConfiguration();
        foreach (var key in current)
        {
            configuration.SigningKeys.Add(key);
        }

        _built = new Built(current, configuration);
        return configuration;
    }

    private sealed record Built(IReadOnlyList<Microsoft.IdentityModel.Tokens.SecurityKey> Keys, OpenIdConnectConfiguration Configuration);

    // Unknown kids are fetched before validation (the message-received event), rate-limited by the key source.
    public void RequestRefresh()
    {
    }
}
