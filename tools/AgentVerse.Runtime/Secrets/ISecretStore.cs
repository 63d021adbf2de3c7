namespace AgentVerse.Runtime.Secrets;

/// <summary>A secret store component (<c>secretstores.*</c>).</summary>
public interface ISecretStore
{
    /// <summary>The secret's key/value map.</summary>
    /// <exception cref="SecretNotFoundException">no such secret (daprd answers 500 ERR_SECRET_GET)</exception>
    Task<IReadOnlyDictionary<string, string>> GetSecretAsync(string name, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken);

    /// <summary>Every secret: name → key/value map.</summary>
    Task<IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>> BulkGetSecretAsync(IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken);
}

public sealed class SecretNotFoundException(string name) : Exception($"secret {name} not found")
{
    public string SecretName { get; } = name;
}
