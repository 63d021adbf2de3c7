namespace AgentVerse.Testing;

/// <summary>Component YAML the tests run the local runtime with.</summary>
public static class ComponentYaml
{
    public const string InMemoryState = """
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: statestore
        spec:
          type: state.in-memory
          version: v1
          metadata: []
        """;

    public const string InMemoryPubSub = """
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: pubsub
        spec:
          type: pubsub.in-memory
          version: v1
          metadata: []
        """;

    /// <summary>An in-memory state store that is the actor state store.</summary>
    public const string InMemoryActorStore = """
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: actorstore
        spec:
          type: state.in-memory
          version: v1
          metadata:
          - name: actorStateStore
            value: "true"
        """;

    /// <summary>A SQLite actor state store (<c>workflows.db</c> in <paramref name="directory"/>), so workflows outlive a runtime.</summary>
    public static string SqliteActorStore(string directory) => $"""
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: wfstate
        spec:
          type: state.sqlite
          version: v1
          metadata:
          - name: connectionString
            value: "{Path.Combine(directory, "workflows.db")}"
          - name: actorStateStore
            value: "true"
        """;

    /// <summary>A local-file secret store named <c>secretstore</c> over <paramref name="secretsFile"/>.</summary>
    public static string LocalFileSecretStore(string secretsFile) => $"""
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
        """;
}
