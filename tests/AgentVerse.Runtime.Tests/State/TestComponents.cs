using AgentVerse.Runtime.Components;

namespace AgentVerse.Runtime.Tests.State;

/// <summary>Builds component definitions the way the YAML loader would.</summary>
internal static class TestComponents
{
    public static ComponentDefinition Definition(string type, string version = "v1", params (string Name, string Value)[] metadata) =>
        new("statestore", type, version,
            metadata.ToDictionary(m => m.Name, m => m.Value),
            new Dictionary<string, SecretKeyRef>(),
            SecretStore: null,
            Scopes: [],
            SourceFile: "components/statestore.yaml");
}
