namespace AgentVerse.Runtime.Components;

/// <summary>Boolean component metadata as dapr/kit decodes it.</summary>
internal static class MetadataBool
{
    /// <summary>dapr/kit <c>IsTruthy</c>: y, yes, true, t, on, 1 (any case) are true; everything else, empty included, is false.</summary>
    public static bool IsTruthy(string? value) =>
        value?.Trim().ToUpperInvariant() is "Y" or "YES" or "TRUE" or "T" or "ON" or "1";
}
