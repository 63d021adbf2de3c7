namespace AgentVerse.Cli.RunFiles;

/// <summary>
/// One app of a multi-app run file after parsing: <c>common</c> defaults merged in, paths absolute,
/// app id defaulted. Ports are 0 when the file leaves them to the launcher.
/// </summary>
internal sealed record RunFileApp
{
    public required string AppId { get; init; }

    /// <summary>Absolute <c>appDirPath</c>; the app's command runs here.</summary>
    public required string AppDirPath { get; init; }

    /// <summary><c>appPort</c>; null = no app channel (sidecar only, or an app that only calls out).</summary>
    public int? AppPort { get; init; }

    public int DaprHttpPort { get; init; }

    public int DaprGrpcPort { get; init; }

    /// <summary><c>command</c>; empty = run the sidecar only, as <c>dapr run</c> without an app.</summary>
    public IReadOnlyList<string> Command { get; init; } = [];

    /// <summary><c>common.env</c> overlaid with the app's <c>env</c> (the app wins).</summary>
    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>();

    /// <summary>Absolute resources paths, resolved with dapr/cli's precedence.</summary>
    public IReadOnlyList<string> ResourcesPaths { get; init; } = [];

    public string AppProtocol { get; init; } = "http";

    public string AppChannelAddress { get; init; } = "127.0.0.1";

    public bool EnableAppHealthCheck { get; init; }

    public string AppHealthCheckPath { get; init; } = "/healthz";

    /// <summary><c>appLogDestination</c>: console, file or fileAndConsole (dapr's default: fileAndConsole).</summary>
    public LogDestination AppLogDestination { get; init; } = LogDestination.FileAndConsole;

    /// <summary><c>daprdLogDestination</c> (dapr's default: file).</summary>
    public LogDestination DaprdLogDestination { get; init; } = LogDestination.File;

    /// <summary>DAPR_API_TOKEN for this sidecar: from the run file's <c>daprAPIToken</c> or the launcher's environment.</summary>
    public string? DaprApiToken { get; init; }

    /// <summary>APP_API_TOKEN for this sidecar: from the run file's <c>appAPIToken</c> or the launcher's environment.</summary>
    public string? AppApiToken { get; init; }

    /// <summary>--max-body-size in bytes.</summary>
    public long MaxBodySize { get; init; } = 4 * 1024 * 1024;
}

/// <summary>Where an app's (or its sidecar's) log lines go, as in dapr's run file.</summary>
internal enum LogDestination
{
    Console,
    File,
    FileAndConsole,
}

/// <summary>A parsed run file: its absolute path and its apps in file order.</summary>
internal sealed record RunFile(string Path, IReadOnlyList<RunFileApp> Apps)
{
    /// <summary>The directory holding the run file; relative paths in <c>common</c> resolve here.</summary>
    public string Directory => System.IO.Path.GetDirectoryName(Path)!;
}

/// <summary>A run file that cannot be used; the message names the file and, when known, the app and key.</summary>
internal sealed class RunFileException(string message) : Exception(message);
