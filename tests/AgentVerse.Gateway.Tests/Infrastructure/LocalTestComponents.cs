namespace AgentVerse.Gateway.Tests.Infrastructure;

/// <summary>
/// The components a test run of services needs, written into one resources directory: in-memory state and
/// pub/sub, and a local-file secret store over <c>secrets.json</c> in the same directory. Shared (linked) by
/// the gateway, tools and MCP tests and the benchmarks.
/// </summary>
public static class LocalTestComponents
{
    /// <summary>Writes <c>secrets.json</c> with <paramref name="secretsJson"/> and the component file; returns the secrets file path.</summary>
    public static async Task<string> WriteAsync(string directory, string secretsJson)
    {
        var secretsFile = Path.Combine(directory, "secrets.json");
        await File.WriteAllTextAsync(secretsFile, secretsJson);
        await File.WriteAllTextAsync(Path.Combine(directory, "components.yaml"), $"""
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: statestore
            spec:
              type: state.in-memory
              version: v1
              metadata: []
            ---
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: pubsub
            spec:
              type: pubsub.in-memory
              version: v1
              metadata: []
            ---
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: secretstore
            spec:
              type: secretstores.local.file
              version: v1
              metadata:
              - name: secretsFile
                value: "{secretsFile}"
            """);
        return secretsFile;
    }
}
