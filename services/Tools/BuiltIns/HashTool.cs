using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentVerse.Tools.BuiltIns;

/// <summary>Hex digest of UTF-8 text.</summary>
public sealed class HashTool : IBuiltInTool
{
    public string Name => "hash";

    public string Description => "Hex digest (sha256, sha512 or md5) of a UTF-8 text.";

    public JsonElement InputSchema { get; } = Schemas.Parse("""
        {"type":"object","required":["text"],"additionalProperties":false,
         "properties":{
           "text":{"type":"string","maxLength":1000000,"description":"The text to hash","example":"hello"},
           "algorithm":{"type":"string","enum":["sha256","sha512","md5"],"description":"Digest algorithm (default sha256)","example":"sha256"}}}
        """);

    public JsonElement OutputSchema { get; } = Schemas.Parse("""
        {"type":"object","description":"The algorithm and the lower-case hex digest","example":{"algorithm":"sha256","hash":"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}}
        """);

    public IReadOnlyList<string> Capabilities { get; } = ["hash"];

    public ValueTask<JsonNode?> ExecuteAsync(JsonElement parameters, CancellationToken cancellationToken)
    {
        var bytes = Encoding.UTF8.GetBytes(parameters.RequiredString("text"));
        var algorithm = parameters.OptionalString("algorithm") ?? "sha256";
        var digest = algorithm switch
        {
            "sha512" => SHA512.HashData(bytes),
#pragma warning disable CA5351 // A checksum the caller asked for by name, not used for security here.
            "md5" => MD5.HashData(bytes),
#pragma warning restore CA5351
            _ => SHA256.HashData(bytes),
        };
        return ValueTask.FromResult<JsonNode?>(new JsonObject { ["algorithm"] = algorithm, ["hash"] = Convert.ToHexStringLower(digest) });
    }
}
