using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace AgentVerse.Cli.RunFiles;

/// <summary>
/// Reads a Dapr multi-app run file (<c>dapr run -f</c>) with dapr/cli's semantics
/// (pkg/runfileconfig): <c>common</c> is a default for every app key, <c>appDirPath</c> is relative to
/// the file, every other app path is relative to <c>appDirPath</c>, the app id defaults to the
/// directory name, and unknown keys are ignored so files written for newer dapr versions still run.
/// </summary>
internal static class RunFileParser
{
    /// <summary>The names <c>dapr run -f &lt;dir&gt;</c> looks for.</summary>
    private static readonly string[] DefaultFileNames = ["dapr.yaml", "dapr.yml"];

    // Keys that never fall back to common: an id or a directory shared by all apps is always a mistake.
    private static readonly HashSet<string> PerAppOnly = new(StringComparer.OrdinalIgnoreCase) { "appID", "appDirPath" };

    /// <summary>Resolves <paramref name="fileOrDirectory"/> (a run file or a directory holding <c>dapr.yaml</c>) and parses it.</summary>
    public static RunFile Load(string fileOrDirectory, IReadOnlyDictionary<string, string?> launcherEnvironment)
    {
        var path = Path.GetFullPath(fileOrDirectory);
        if (Directory.Exists(path))
        {
            path = DefaultFileNames.Select(n => Path.Combine(path, n)).FirstOrDefault(File.Exists)
                ?? throw new RunFileException($"{path}: no dapr.yaml in this directory.");
        }
        else if (!File.Exists(path))
        {
            throw new RunFileException($"{path}: run file not found.");
        }

        return Parse(File.ReadAllText(path), path, launcherEnvironment);
    }

    /// <summary>Parses run-file text; <paramref name="path"/> anchors relative paths and names the file in errors.</summary>
    public static RunFile Parse(string yaml, string path, IReadOnlyDictionary<string, string?> launcherEnvironment)
    {
        path = Path.GetFullPath(path);
        var baseDir = Path.GetDirectoryName(path)!;
        var root = ReadRoot(yaml, path);

        var version = Get(root, "version");
        if (version is null)
        {
            throw new RunFileException($"{path}: required field 'version' not found (use 'version: 1').");
        }

        _ = RequireInt(version, path, "version");

        var common = Get(root, "common") switch
        {
            null => new YamlMappingNode(),
            YamlMappingNode m => m,
            var other => throw Error(path, "common", other, "must be a mapping"),
        };
        var commonResources = ResourcesPaths(common, baseDir, path, "common");
        var commonEnv = Env(common, path, "common");

        var appsNode = Get(root, "apps") switch
        {
            null => throw new RunFileException($"{path}: required field 'apps' not found (a list of apps, each with an appDirPath)."),
            YamlSequenceNode s when s.Children.Count > 0 => s,
            YamlSequenceNode => throw new RunFileException($"{path}: 'apps' is empty."),
            var other => throw Error(path, "apps", other, "must be a list"),
        };

        var apps = new List<RunFileApp>();
        for (var i = 0; i < appsNode.Children.Count; i++)
        {
            if (appsNode.Children[i] is not YamlMappingNode appNode)
            {
                throw new RunFileException($"{path}: apps[{i}] must be a mapping of keys to values.");
            }

            apps.Add(ParseApp(appNode, common, commonEnv, commonResources, i, baseDir, path, launcherEnvironment));
        }

        CheckUnique(apps, path);
        return new RunFile(path, apps);
    }

    private static RunFileApp ParseApp(
        YamlMappingNode app,
        YamlMappingNode common,
        IReadOnlyDictionary<string, string> commonEnv,
        IReadOnlyList<string>? commonResources,
        int index,
        string baseDir,
        string path,
        IReadOnlyDictionary<string, string?> launcherEnvironment)
    {
        var where = $"apps[{index}]";
        if (Get(app, "appDirPath") is not { } dirNode || Scalar(dirNode, path, where + ".appDirPath") is not { Length: > 0 } dirValue)
        {
            throw new RunFileException($"{path}: {where}: required field 'appDirPath' not found.");
        }

        var appDir = ResolvePath(baseDir, dirValue);
        if (!Directory.Exists(appDir))
        {
            throw new RunFileException($"{path}: {where}: appDirPath '{dirValue}' does not exist ({appDir}).");
        }

        var appId = Get(app, "appID") is { } idNode ? Scalar(idNode, path, where + ".appID") : null;
        if (string.IsNullOrWhiteSpace(appId))
        {
            appId = Path.GetFileName(Path.TrimEndingDirectorySeparator(appDir));
        }

        where = $"{where} (appID '{appId}')";

        // An app key wins; otherwise the same key under common is the default (dapr merges every
        // zero-valued shared field from common).
        YamlNode? Key(string key) => Get(app, key) ?? (PerAppOnly.Contains(key) ? null : Get(common, key));

        int? OptionalInt(string key) => Key(key) is { } n ? RequireInt(n, path, $"{where}.{key}") : null;
        string? OptionalString(string key) => Key(key) is { } n ? Scalar(n, path, $"{where}.{key}") : null;
        bool OptionalBool(string key) => Key(key) is { } n && RequireBool(n, path, $"{where}.{key}");

        var env = new Dictionary<string, string>(commonEnv, StringComparer.Ordinal);
        foreach (var (k, v) in Env(app, path, where))
        {
            env[k] = v;
        }

        IReadOnlyList<string>? resources = ResourcesPaths(app, appDir, path, where);
        if (resources is null)
        {
            // dapr/cli precedence: app resourcesPaths > <appDirPath>/.dapr/resources > common > the
            // installation default (~/.dapr/components). This launcher, having no installation, looks
            // next to the run file (./components) before ~/.dapr/components.
            var local = Path.Combine(appDir, ".dapr", "resources");
            var besideFile = Path.Combine(baseDir, "components");
            var home = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dapr", "components");
            resources = Directory.Exists(local) ? [local]
                : commonResources ?? (Directory.Exists(besideFile) ? [besideFile]
                : Directory.Exists(home) ? [home] : []);
        }

        var appPort = OptionalInt("appPort");
        var command = Key("command") switch
        {
            null => [],
            YamlSequenceNode s => s.Children.Select((c, j) => Scalar(c, path, $"{where}.command[{j}]") ?? "").ToArray(),
            var other => throw Error(path, $"{where}.command", other, "must be a list, e.g. [\"node\", \"app.js\"]"),
        };

        return new RunFileApp
        {
            AppId = appId,
            AppDirPath = appDir,
            AppPort = appPort is > 0 ? appPort : null,
            DaprHttpPort = Math.Max(0, OptionalInt("daprHTTPPort") ?? 0),
            DaprGrpcPort = Math.Max(0, OptionalInt("daprGRPCPort") ?? 0),
            Command = command,
            Env = env,
            ResourcesPaths = resources,
            AppProtocol = OptionalString("appProtocol") is { Length: > 0 } protocol ? protocol.ToLowerInvariant() : "http",
            AppChannelAddress = OptionalString("appChannelAddress") is { Length: > 0 } address ? address : "127.0.0.1",
            EnableAppHealthCheck = OptionalBool("enableAppHealthCheck"),
            AppHealthCheckPath = OptionalString("appHealthCheckPath") is { Length: > 0 } healthPath ? healthPath : "/healthz",
            AppLogDestination = Destination(OptionalString("appLogDestination"), LogDestination.FileAndConsole, path, where + ".appLogDestination"),
            DaprdLogDestination = Destination(OptionalString("daprdLogDestination"), LogDestination.File, path, where + ".daprdLogDestination"),
            // Like daprd, the tokens come from the environment: the app's env entries, else the launcher's.
            DaprApiToken = Token(env, launcherEnvironment, "DAPR_API_TOKEN"),
            AppApiToken = Token(env, launcherEnvironment, "APP_API_TOKEN"),
            MaxBodySize = BodySize(Key("maxBodySize"), Key("daprHTTPMaxRequestSize"), path, where),
        };
    }

    private static void CheckUnique(List<RunFileApp> apps, string path)
    {
        var duplicateId = apps.GroupBy(a => a.AppId, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicateId is not null)
        {
            throw new RunFileException($"{path}: appID '{duplicateId.Key}' is used by more than one app.");
        }

        var seen = new Dictionary<int, string>();
        foreach (var app in apps)
        {
            foreach (var (port, what) in FixedPorts(app))
            {
                if (!seen.TryAdd(port, $"{app.AppId} {what}"))
                {
                    throw new RunFileException($"{path}: port {port} is used twice: {seen[port]} and {app.AppId} {what}.");
                }
            }
        }
    }

    /// <summary>The ports an app fixes in the run file (0 = chosen at start, so not listed).</summary>
    public static IEnumerable<(int Port, string What)> FixedPorts(RunFileApp app)
    {
        if (app.AppPort is { } appPort)
        {
            yield return (appPort, "appPort");
        }

        if (app.DaprHttpPort > 0)
        {
            yield return (app.DaprHttpPort, "daprHTTPPort");
        }

        if (app.DaprGrpcPort > 0)
        {
            yield return (app.DaprGrpcPort, "daprGRPCPort");
        }
    }

    private static YamlMappingNode ReadRoot(string yaml, string path)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new RunFileException($"{path}:{e.Start.Line}:{e.Start.Column}: not valid YAML: {e.Message}");
        }

        return stream.Documents.FirstOrDefault()?.RootNode as YamlMappingNode
            ?? throw new RunFileException($"{path}: expected a mapping with 'version', 'common' and 'apps'.");
    }

    // dapr's yaml keys are camelCase tags; matching case-insensitively also accepts 'appId' or 'daprHttpPort'.
    private static YamlNode? Get(YamlMappingNode map, string key) =>
        map.Children.FirstOrDefault(kv => kv.Key is YamlScalarNode k && string.Equals(k.Value, key, StringComparison.OrdinalIgnoreCase)).Value;

    private static string? Scalar(YamlNode node, string path, string where) => node switch
    {
        YamlScalarNode s => s.Value is "~" or "null" && s.Style == YamlDotNet.Core.ScalarStyle.Plain ? null : s.Value,
        _ => throw Error(path, where, node, "must be a single value"),
    };

    private static int RequireInt(YamlNode node, string path, string where)
    {
        var text = Scalar(node, path, where);
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Error(path, where, node, "must be an integer");
    }

    private static bool RequireBool(YamlNode node, string path, string where) =>
        Scalar(node, path, where)?.ToLowerInvariant() switch
        {
            "true" or "yes" or "on" => true,
            "false" or "no" or "off" or null => false,
            _ => throw Error(path, where, node, "must be true or false"),
        };

    private static Dictionary<string, string> Env(YamlMappingNode owner, string path, string where)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        switch (Get(owner, "env"))
        {
            case null:
                break;
            case YamlMappingNode map:
                foreach (var (key, value) in map.Children)
                {
                    var name = Scalar(key, path, $"{where}.env") ?? "";
                    result[name] = Scalar(value, path, $"{where}.env.{name}") ?? "";
                }

                break;
            case var other:
                throw Error(path, $"{where}.env", other, "must be a mapping of NAME: value");
        }

        return result;
    }

    /// <summary><c>resourcesPaths</c> plus the deprecated <c>resourcesPath</c>, absolute; null when neither is given.</summary>
    private static List<string>? ResourcesPaths(YamlMappingNode owner, string baseDir, string path, string where)
    {
        var result = new List<string>();
        switch (Get(owner, "resourcesPaths"))
        {
            case null:
                break;
            case YamlSequenceNode list:
                result.AddRange(list.Children.Select((n, i) => Scalar(n, path, $"{where}.resourcesPaths[{i}]") ?? ""));
                break;
            case var other:
                throw Error(path, $"{where}.resourcesPaths", other, "must be a list of directories");
        }

        if (Get(owner, "resourcesPath") is { } single && Scalar(single, path, $"{where}.resourcesPath") is { Length: > 0 } value)
        {
            result.Add(value);
        }

        if (result.Count == 0)
        {
            return null;
        }

        var resolved = new List<string>();
        foreach (var entry in result.Where(e => e.Length > 0))
        {
            var full = ResolvePath(baseDir, entry);
            if (!Directory.Exists(full))
            {
                throw new RunFileException($"{path}: {where}: resources path '{entry}' does not exist ({full}).");
            }

            if (!resolved.Contains(full, StringComparer.Ordinal))
            {
                resolved.Add(full);
            }
        }

        return resolved;
    }

    private static string ResolvePath(string baseDir, string value)
    {
        if (value == "~" || value.StartsWith("~/", StringComparison.Ordinal))
        {
            value = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) + value[1..];
        }

        return Path.TrimEndingDirectorySeparator(Path.GetFullPath(value, baseDir));
    }

    private static LogDestination Destination(string? value, LogDestination fallback, string path, string where) =>
        value?.ToLowerInvariant() switch
        {
            null or "" => fallback,
            "console" => LogDestination.Console,
            "file" => LogDestination.File,
            "fileandconsole" => LogDestination.FileAndConsole,
            _ => throw new RunFileException($"{path}: {where}: invalid log destination '{value}' (console, file or fileAndConsole)."),
        };

    private static string? Token(Dictionary<string, string> env, IReadOnlyDictionary<string, string?> launcher, string name) =>
        env.TryGetValue(name, out var fromFile) && fromFile.Length > 0 ? fromFile
        : launcher.TryGetValue(name, out var fromLauncher) && !string.IsNullOrEmpty(fromLauncher) ? fromLauncher
        : null;

    private static long BodySize(YamlNode? quantity, YamlNode? legacyMegabytes, string path, string where)
    {
        if (quantity is not null && Scalar(quantity, path, $"{where}.maxBodySize") is { Length: > 0 } text)
        {
            return ParseQuantity(text) ?? throw Error(path, $"{where}.maxBodySize", quantity, "must be a size such as 4Mi or 16Mi");
        }

        // daprHTTPMaxRequestSize is the older key, in megabytes.
        return legacyMegabytes is not null ? RequireInt(legacyMegabytes, path, $"{where}.daprHTTPMaxRequestSize") * 1024L * 1024L : 4 * 1024 * 1024;
    }

    /// <summary>A Kubernetes-style quantity (<c>4Mi</c>, <c>512Ki</c>, <c>1G</c>, <c>1000</c>) in bytes.</summary>
    internal static long? ParseQuantity(string text)
    {
        (string Suffix, long Factor)[] units = [("Ki", 1L << 10), ("Mi", 1L << 20), ("Gi", 1L << 30), ("k", 1000), ("K", 1000), ("M", 1_000_000), ("G", 1_000_000_000)];
        foreach (var (suffix, factor) in units)
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal)
                && long.TryParse(text[..^suffix.Length], NumberStyles.Integer, CultureInfo.InvariantCulture, out var scaled))
            {
                return scaled * factor;
            }
        }

        return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var bytes) ? bytes : null;
    }

    private static RunFileException Error(string path, string where, YamlNode node, string problem)
    {
        var shown = node is YamlScalarNode s ? $"'{s.Value}'" : node.NodeType.ToString().ToLowerInvariant();
        return new RunFileException($"{path}:{node.Start.Line}: '{where}' {problem}, got {shown}.");
    }
}
