namespace AgentVerse.Testing;

/// <summary>Resources directories (component YAML) for the local runtime.</summary>
public static class ResourcesDirectory
{
    /// <summary>Writes each of <paramref name="components"/> into <paramref name="directory"/> as a file of its own.</summary>
    private static async Task WriteAsync(string directory, IEnumerable<string> components)
    {
        var i = 0;
        foreach (var yaml in components)
        {
            await File.WriteAllTextAsync(Path.Combine(directory, $"resource{i++}.yaml"), yaml);
        }
    }

    /// <summary>A new temp resources directory holding <paramref name="components"/>; delete it with <see cref="TempDirectory.Delete"/>.</summary>
    public static async Task<string> CreateAsync(params IEnumerable<string> components)
    {
        var directory = TempDirectory.Create();
        await WriteAsync(directory, components);
        return directory;
    }

    /// <summary>A new temp resources directory holding the component <paramref name="component"/> makes of the directory's path.</summary>
    public static async Task<string> CreateAsync(Func<string, string> component)
    {
        var directory = TempDirectory.Create();
        await WriteAsync(directory, [component(directory)]);
        return directory;
    }

    /// <summary>
    /// What a test run of services needs, in <paramref name="directory"/>: in-memory state and pub/sub and a local-file
    /// secret store over <c>secrets.json</c>, written with <paramref name="secretsJson"/>. Returns the secrets file path.
    /// </summary>
    public static async Task<string> WriteServiceComponentsAsync(string directory, string secretsJson)
    {
        var secretsFile = Path.Combine(directory, "secrets.json");
        await File.WriteAllTextAsync(secretsFile, secretsJson);
        await File.WriteAllTextAsync(
            Path.Combine(directory, "components.yaml"),
            string.Join("\n---\n", ComponentYaml.InMemoryState, ComponentYaml.InMemoryPubSub, ComponentYaml.LocalFileSecretStore(secretsFile)));
        return secretsFile;
    }
}
