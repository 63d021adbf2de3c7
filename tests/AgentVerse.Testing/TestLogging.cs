using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentVerse.Testing;

/// <summary>Logging of in-process runtimes and apps: silent unless <c>AGENTVERSE_TEST_LOGS=1</c>.</summary>
public static class TestLogging
{
    public static ILoggerFactory LoggerFactory() =>
        Environment.GetEnvironmentVariable("AGENTVERSE_TEST_LOGS") == "1"
            ? Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.AddSimpleConsole().SetMinimumLevel(LogLevel.Debug))
            : NullLoggerFactory.Instance;
}
