namespace AgentVerse.Runtime.Tests.Components;

/// <summary>
/// Tests that set process environment variables (including APP_API_TOKEN and DAPR_*) run on their own, so that
/// no sidecar test running in parallel sees them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessEnvironmentTests
{
    public const string Name = "process environment";
}
