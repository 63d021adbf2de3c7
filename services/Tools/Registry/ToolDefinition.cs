using System.Text.Json;

namespace AgentVerse.Tools.Registry;

/// <summary>Who may see and run a registered tool.</summary>
public static class ToolVisibility
{
    public const string Private = "private";
    public const string Shared = "shared";
    public const string Public = "public";

    public static readonly IReadOnlyList<string> All = [Private, Shared, Public];
}

/// <summary>A custom HTTP tool as stored (key <c>tool:{id}</c>). The API key is only ever here encrypted.</summary>
public sealed record ToolDefinition
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    public string Description { get; init; } = "";

    public string Type { get; init; } = "custom";

    public required JsonElement InputSchema { get; init; }

    public JsonElement? OutputSchema { get; init; }

    public required string Endpoint { get; init; }

    public string Method { get; init; } = "POST";

    public string ApiKeyHeader { get; init; } = "X-API-Key";

    /// <summary>AES-GCM ciphertext of the API key (see <see cref="ApiKeyProtector"/>); null when the tool has none.</summary>
    public string? EncryptedApiKey { get; init; }

    public required string OwnerId { get; init; }

    public string Visibility { get; init; } = ToolVisibility.Private;

    public IReadOnlyList<string> SharedWith { get; init; } = [];

    public string Status { get; init; } = "active";

    public int Version { get; init; } = 1;

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Whether <paramref name="userId"/> may see and run the tool (admins see everything).</summary>
    public bool CanRead(string userId, bool isAdmin) =>
        isAdmin || OwnerId == userId || Visibility == ToolVisibility.Public
        || (Visibility == ToolVisibility.Shared && SharedWith.Contains(userId, StringComparer.Ordinal));

    /// <summary>Whether <paramref name="userId"/> may change or delete the tool.</summary>
    public bool CanWrite(string userId, bool isAdmin) => isAdmin || OwnerId == userId;
}
