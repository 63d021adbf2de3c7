using Microsoft.Extensions.Logging;

namespace AgentVerse.Cli.Launch;

/// <summary>
/// With <c>--log-format text</c>, the local runtime's log events go through <see cref="RunConsole"/> in the same layout as
/// the apps' lines, under the app id of the sidecar that logged them (and held back while the status table is drawn).
/// </summary>
internal sealed class RunConsoleLoggerProvider(RunConsole console, IEnumerable<string> appIds) : ILoggerProvider
{
    // The runtime names each sidecar's own loggers after its app; other categories (components, Kestrel) are shared.
    private static readonly string[] PerAppCategories = ["AgentVerse.Runtime.Sidecar.", "AgentVerse.Runtime.Workflow."];

    private readonly HashSet<string> _appIds = new(appIds, StringComparer.Ordinal);

    public ILogger CreateLogger(string categoryName)
    {
        foreach (var prefix in PerAppCategories)
        {
            if (categoryName.StartsWith(prefix, StringComparison.Ordinal) && _appIds.Contains(categoryName[prefix.Length..]))
            {
                return new Logger(console, categoryName[prefix.Length..], prefix[..^1]);
            }
        }

        return new Logger(console, TextLogRenderer.RuntimeAppId, categoryName);
    }

    public void Dispose()
    {
    }

    private sealed class Logger(RunConsole console, string appId, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            // The first line of Exception.ToString(), without building the stack trace.
            var error = exception is null ? null : $"{exception.GetType()}: {exception.Message}";
            console.Log(appId, new LogEntry(null, logLevel, category, formatter(state, exception), error));
        }
    }
}
