using Microsoft.AspNetCore.Http;

namespace AgentVerse.Runtime.Sidecar.Apis;

/// <summary>daprd's per-request component metadata: <c>metadata.&lt;key&gt;</c> query parameters, prefix stripped.</summary>
internal static class RequestMetadata
{
    private const string Prefix = "metadata.";

    public static Dictionary<string, string> FromQuery(HttpRequest request)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in request.Query)
        {
            if (key.StartsWith(Prefix, StringComparison.Ordinal) && key.Length > Prefix.Length)
            {
                metadata[key[Prefix.Length..]] = value.ToString();
            }
        }
        return metadata;
    }
}
