namespace AgentVerse.ServiceDefaults.Dapr;

/// <summary>
/// What can be part of a state key. Dapr refuses keys holding its separator <c>||</c>; stores refuse NUL (PostgreSQL
/// text) or very long keys. An id or name from a request that cannot be stored is refused or not found before it
/// reaches the store, never a sidecar error.
/// </summary>
public static class StateKeys
{
    /// <summary>Longest id or key component accepted from a request.</summary>
    public const int MaxLength = 256;

    /// <summary>Whether <paramref name="value"/> can be (part of) a state key: not empty, not too long, no <c>|</c>, no control character.</summary>
    public static bool IsStorable(string? value, int maxLength = MaxLength) =>
        !string.IsNullOrEmpty(value) && value.Length <= maxLength && !value.AsSpan().ContainsAny(Unstorable);

    private static readonly System.Buffers.SearchValues<char> Unstorable = System.Buffers.SearchValues.Create(
        "|\u007F" + string.Concat(Enumerable.Range(0, 32).Select(c => (char)c)));
}
