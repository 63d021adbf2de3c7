using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace AgentVerse.Gateway.Tokens;

/// <summary>An ES256 (ECDsa P-256) key with its <c>kid</c>, the RFC 7638 thumbprint of its public part.</summary>
public sealed class SigningKey : IDisposable
{
    private SigningKey(ECDsa key)
    {
        var parameters = key.ExportParameters(includePrivateParameters: false);
        X = Base64UrlEncoder.Encode(parameters.Q.X!);
        Y = Base64UrlEncoder.Encode(parameters.Q.Y!);
        // RFC 7638: the required members in lexicographic order, no whitespace.
        var canonical = $$"""{"crv":"P-256","kty":"EC","x":"{{X}}","y":"{{Y}}"}""";
        KeyId = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
        Key = key;
        SecurityKey = new ECDsaSecurityKey(key) { KeyId = KeyId };
    }

    public string KeyId { get; }

    public string X { get; }

    public string Y { get; }

    public ECDsa Key { get; }

    public ECDsaSecurityKey SecurityKey { get; }

    /// <summary>Reads a PKCS#8 (or SEC1) PEM private key; refuses any curve but P-256.</summary>
    public static SigningKey FromPem(string pem)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
            if (key.KeySize != 256)
            {
                throw new CryptographicException($"The signing key must be on P-256, not a {key.KeySize}-bit curve.");
            }

            return new SigningKey(key);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    public void Dispose() => Key.Dispose();
}
