using AgentVerse.Runtime.Components;

namespace AgentVerse.Runtime.State;

// STUB: replaced by the state-stores helper.
public sealed class SqliteStateStore
{
    /// <summary>Validates the component's metadata (throwing <see cref="ComponentLoadException"/> naming the field) and creates the store.</summary>
    public static IStateStore Create(ComponentDefinition definition, TimeProvider timeProvider) => throw new NotImplementedException();
}
