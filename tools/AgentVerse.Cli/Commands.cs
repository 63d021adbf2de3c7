using System.CommandLine;
using System.Diagnostics;
using AgentVerse.Cli.Launch;
using AgentVerse.Cli.RunFiles;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace AgentVerse.Cli;

/// <summary>The <c>agentverse</c> command line: <c>run -f</c> (any multi-app run file) and <c>up</c> (build + run this repo).</summary>
internal static class Commands
{
    /// <summary>Build configuration used by <c>up</c>; the root dapr.yaml runs the dlls from <c>bin/Debug</c>, the same ones <c>dotnet test</c> builds.</summary>
    public const string Configuration = "Debug";

    private static readonly Option<LogLevel> LogLevelOption = new("--log-level")
    {
        Description = "Level of the local runtime's own log lines (the sidecars); app output is always shown.",
        DefaultValueFactory = _ => LogLevel.Warning,
    };

    private static readonly Option<string> LogFormatOption = new Option<string>("--log-format")
    {
        Description = "How app and sidecar logs are shown: 'text', one readable line per event (time, app, level, message), "
            + "or 'json', app output as written. Default: text on a terminal, json otherwise (CI, pipes).",
        HelpName = "json|text",
        DefaultValueFactory = _ => Console.IsOutputRedirected ? "json" : "text",
    }.AcceptOnlyFromAmong("json", "text");

    private static readonly Option<int> ReadyTimeoutOption = new("--ready-timeout")
    {
        Description = "Seconds every app gets to become healthy before the run fails.",
        DefaultValueFactory = _ => 120,
    };

    private static readonly Option<int> StopGraceOption = new("--stop-grace")
    {
        Description = "Seconds apps get after SIGTERM before they and their children are killed.",
        DefaultValueFactory = _ => 10,
    };

    public static RootCommand Build(Signals signals)
    {
        var runFile = new Option<string>("--run-file", "-f")
        {
            Description = "A multi-app run file (dapr.yaml) or a directory holding one.",
            Required = true,
        };
        var run = new Command("run", "Run every app of a Dapr multi-app run file with a local sidecar each, like 'dapr run -f'.")
        {
            runFile, LogLevelOption, LogFormatOption, ReadyTimeoutOption, StopGraceOption,
        };
        run.SetAction((parse, _) => RunAsync(parse.GetValue(runFile)!, parse, signals, onReady: null));

        var noBuild = new Option<bool>("--no-build") { Description = "Skip 'dotnet build' and run what is already built." };
        var up = new Command("up", $"Build AgentVerse.sln ({Configuration}) and run the root dapr.yaml: all eight services, each with its sidecar.")
        {
            noBuild, LogLevelOption, LogFormatOption, ReadyTimeoutOption, StopGraceOption,
        };
        up.SetAction((parse, _) => UpAsync(parse.GetValue(noBuild), parse, signals));

        return new RootCommand("AgentVerse launcher: runs Dapr multi-app run files against the local Dapr-compatible runtime.") { run, up };
    }

    private static async Task<int> UpAsync(bool noBuild, ParseResult parse, Signals signals)
    {
        var root = RepoLayout.FindRoot();
        if (root is null)
        {
            await Console.Error.WriteLineAsync($"agentverse: error: no {RepoLayout.SolutionFile} in this directory or above; run 'up' inside the repository.");
            return 1;
        }

        IReadOnlyList<string> provisioned;
        try
        {
            provisioned = await RepoLayout.EnsureLocalDataAsync(root, signals.Stop);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"agentverse: error: cannot provision the platform's secrets: {e.Message}");
            return 1;
        }

        if (provisioned.Count > 0)
        {
            Console.WriteLine($"agentverse: generated {string.Join(", ", provisioned)} in .agentverse/secrets.json (kept for later runs)");
        }
        if (!noBuild && !await BuildAsync(root, signals.Stop))
        {
            return 1;
        }

        return await RunAsync(Path.Combine(root, "dapr.yaml"), parse, signals, onReady: (statuses, console) =>
        {
            if (statuses.FirstOrDefault(s => s.App.AppId == "gateway") is { App.AppPort: { } port } gateway)
            {
                var url = $"http://{gateway.App.AppChannelAddress}:{port}";
                console.Info($"AgentVerse is up: gateway at {url}");
                console.Block(NextSteps(url));
            }
        });
    }

    /// <summary>Where a newcomer goes once <c>up</c> is ready: the API, its description, and a first call.</summary>
    private static string NextSteps(string gateway)
    {
        const string Credentials = """'{"email":"you@example.com","password":"correct-horse-battery-9"}'""";
        return $"""

              Next steps
                API gateway       {gateway}
                OpenAPI document  {gateway}/openapi/v1.json
                API explorer      {gateway}/scalar/v1

                Register a user, log in for a token, then call the API with it:
                  curl -s -X POST {gateway}/api/auth/register -H 'Content-Type: application/json' -d {Credentials}
                  curl -s -X POST {gateway}/api/auth/login -H 'Content-Type: application/json' -d {Credentials}
                  curl -s {gateway}/api/auth/me -H 'Authorization: Bearer <token from the login>'

            """;
    }

    private static async Task<int> RunAsync(string path, ParseResult parse, Signals signals, Action<IReadOnlyList<AppStatus>, RunConsole>? onReady)
    {
        RunFile file;
        try
        {
            file = RunFileParser.Load(path, Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
                .ToDictionary(e => (string)e.Key, e => (string?)e.Value, StringComparer.Ordinal));
        }
        catch (RunFileException e)
        {
            await Console.Error.WriteLineAsync($"agentverse: error: {e.Message}");
            return 1;
        }

        // Relative paths inside component files (the SQLite file, the secrets file) resolve against
        // the working directory; running from the run file's directory makes them mean the same
        // wherever the launcher was started.
        Environment.CurrentDirectory = file.Directory;

        var interactive = !Console.IsOutputRedirected;
        var appIds = file.Apps.Select(a => a.AppId).ToList();
        var text = parse.GetValue(LogFormatOption) == "text";
        var console = new RunConsole(Console.Out, Console.Error, interactive,
            text ? new TextLogRenderer(appIds, TimeProvider.System, colours: interactive ? AnsiConsole.Console : null) : null);
        var level = parse.GetValue(LogLevelOption);
        using var loggerFactory = LoggerFactory.Create(logging =>
        {
            logging.SetMinimumLevel(level)
                // Kestrel warns once per sidecar endpoint that HTTP/2 needs TLS (daprd's h2c gRPC port is meant
                // to be cleartext); that is noise unless someone asked for detail.
                .AddFilter("Microsoft.AspNetCore.Server.Kestrel", level >= LogLevel.Warning ? LogLevel.Error : level);
            if (text)
            {
                logging.AddProvider(new RunConsoleLoggerProvider(console, appIds));
            }
            else
            {
                logging.AddSimpleConsole(o =>
                {
                    o.SingleLine = true;
                    o.TimestampFormat = "HH:mm:ss ";
                });
            }
        });
        var settings = new RunSettings
        {
            ReadyTimeout = TimeSpan.FromSeconds(parse.GetValue(ReadyTimeoutOption)),
            StopGrace = TimeSpan.FromSeconds(parse.GetValue(StopGraceOption)),
            OnReady = onReady,
        };
        console.Info($"running {file.Apps.Count} app(s) from {file.Path}");
        return await new MultiAppRun(file, console, loggerFactory, settings).RunAsync(signals.Stop, signals.Kill);
    }

    private static async Task<bool> BuildAsync(string root, CancellationToken cancellationToken)
    {
        Console.WriteLine($"agentverse: dotnet build {RepoLayout.SolutionFile} -c {Configuration}");
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "build", RepoLayout.SolutionFile, "-c", Configuration, "-nologo", "-v", "q", "-clp:ErrorsOnly" })
        {
            info.ArgumentList.Add(arg);
        }

        using var build = Process.Start(info)!;
        var output = build.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = build.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await build.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            build.Kill(entireProcessTree: true);
            return false;
        }

        if (build.ExitCode != 0)
        {
            await Console.Error.WriteLineAsync(await output + await errors);
            await Console.Error.WriteLineAsync($"agentverse: error: the build failed (exit code {build.ExitCode}); nothing was started.");
            return false;
        }

        return true;
    }
}
