using AgentVerse.Testing;
using AgentVerse.Cli.RunFiles;

namespace AgentVerse.IntegrationTests.Launcher;

public sealed class RunFileParserTests : IDisposable
{
    private static readonly Dictionary<string, string?> NoEnvironment = [];
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private RunFile Parse(string yaml, IReadOnlyDictionary<string, string?>? environment = null) =>
        RunFileParser.Load(_dir.Write("dapr.yaml", yaml), environment ?? NoEnvironment);

    private RunFileException ParseFails(string yaml) => Assert.Throws<RunFileException>(() => Parse(yaml));

    [Fact]
    public void AppDirPath_is_relative_to_the_run_file_and_the_app_id_defaults_to_its_name()
    {
        _dir.Dir("src/orders");

        var app = Assert.Single(Parse("""
            version: 1
            apps:
              - appDirPath: ./src/orders/
            """).Apps);

        Assert.Equal(Path.Combine(_dir.Path, "src", "orders"), app.AppDirPath);
        Assert.Equal("orders", app.AppId);
        Assert.Empty(app.Command);
        Assert.Null(app.AppPort);
        Assert.Equal(0, app.DaprHttpPort);
    }

    [Fact]
    public void App_resources_paths_are_relative_to_appDirPath_and_common_ones_to_the_file()
    {
        _dir.Dir("a/res");
        _dir.Dir("b");
        _dir.Dir("shared");

        var apps = Parse("""
            version: 1
            common:
              resourcesPath: ./shared
            apps:
              - appID: a
                appDirPath: a
                resourcesPaths: [./res]
              - appID: b
                appDirPath: b
            """).Apps;

        Assert.Equal([Path.Combine(_dir.Path, "a", "res")], apps[0].ResourcesPaths);
        Assert.Equal([Path.Combine(_dir.Path, "shared")], apps[1].ResourcesPaths);
    }

    [Fact]
    public void Resources_default_to_the_app_dapr_folder_then_common_then_components_beside_the_file()
    {
        _dir.Dir("withlocal/.dapr/resources");
        _dir.Dir("plain");
        _dir.Dir("components");

        var apps = Parse("""
            version: 1
            apps:
              - appDirPath: withlocal
              - appDirPath: plain
            """).Apps;

        Assert.Equal([Path.Combine(_dir.Path, "withlocal", ".dapr", "resources")], apps[0].ResourcesPaths);
        Assert.Equal([Path.Combine(_dir.Path, "components")], apps[1].ResourcesPaths);
    }

    [Fact]
    public void Common_keys_are_defaults_that_app_keys_override()
    {
        _dir.Dir("a");
        _dir.Dir("b");

        var apps = Parse("""
            version: 1
            common:
              appProtocol: grpc
              enableAppHealthCheck: true
              appHealthCheckPath: /ready
              appLogDestination: console
              env:
                SHARED: common
                LEVEL: info
            apps:
              - appID: a
                appDirPath: a
                appProtocol: http
                env:
                  LEVEL: debug
              - appID: b
                appDirPath: b
            """).Apps;

        Assert.Equal("http", apps[0].AppProtocol);
        Assert.Equal("grpc", apps[1].AppProtocol);
        Assert.All(apps, a => Assert.True(a.EnableAppHealthCheck));
        Assert.All(apps, a => Assert.Equal("/ready", a.AppHealthCheckPath));
        Assert.All(apps, a => Assert.Equal(LogDestination.Console, a.AppLogDestination));
        Assert.Equal("debug", apps[0].Env["LEVEL"]);
        Assert.Equal("info", apps[1].Env["LEVEL"]);
        Assert.All(apps, a => Assert.Equal("common", a.Env["SHARED"]));
    }

    [Fact]
    public void Ports_command_and_sizes_are_read()
    {
        _dir.Dir("a");

        var app = Assert.Single(Parse("""
            version: 1
            apps:
              - appID: a
                appDirPath: a
                appPort: 8080
                daprHTTPPort: 3600
                daprGRPCPort: 50100
                command: ["node", "app.js", "--flag"]
                maxBodySize: 16Mi
                someFutureDaprKey: whatever
            """).Apps);

        Assert.Equal(8080, app.AppPort);
        Assert.Equal(3600, app.DaprHttpPort);
        Assert.Equal(50100, app.DaprGrpcPort);
        Assert.Equal(["node", "app.js", "--flag"], app.Command);
        Assert.Equal(16L * 1024 * 1024, app.MaxBodySize);
    }

    [Fact]
    public void Api_tokens_come_from_the_app_env_or_else_the_launcher_environment()
    {
        _dir.Dir("a");
        _dir.Dir("b");

        var apps = Parse("""
            version: 1
            apps:
              - appID: a
                appDirPath: a
                env:
                  DAPR_API_TOKEN: from-file
              - appID: b
                appDirPath: b
            """, new Dictionary<string, string?> { ["DAPR_API_TOKEN"] = "from-launcher", ["APP_API_TOKEN"] = "app-token" }).Apps;

        Assert.Equal("from-file", apps[0].DaprApiToken);
        Assert.Equal("from-launcher", apps[1].DaprApiToken);
        Assert.All(apps, a => Assert.Equal("app-token", a.AppApiToken));
    }

    [Fact]
    public void A_directory_argument_finds_its_dapr_yaml()
    {
        _dir.Dir("a");
        _dir.Write("dapr.yaml", "version: 1\napps:\n  - appDirPath: a\n");

        var file = RunFileParser.Load(_dir.Path, NoEnvironment);

        Assert.Equal(Path.Combine(_dir.Path, "dapr.yaml"), file.Path);
    }

    [Fact]
    public void Missing_apps_is_an_error()
    {
        var error = ParseFails("version: 1\ncommon: {}\n");

        Assert.Contains("'apps'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_version_is_an_error()
    {
        _dir.Dir("a");

        var error = ParseFails("apps:\n  - appDirPath: a\n");

        Assert.Contains("'version'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_appDirPath_is_an_error_naming_the_app()
    {
        var error = ParseFails("version: 1\napps:\n  - appID: orders\n    appPort: 3000\n");

        Assert.Contains("apps[0]", error.Message, StringComparison.Ordinal);
        Assert.Contains("appDirPath", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_appDirPath_that_does_not_exist_is_an_error()
    {
        var error = ParseFails("version: 1\napps:\n  - appDirPath: ./nope\n");

        Assert.Contains("nope", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_port_that_is_not_a_number_is_an_error_naming_the_key_and_value()
    {
        _dir.Dir("a");

        var error = ParseFails("version: 1\napps:\n  - appID: a\n    appDirPath: a\n    appPort: eighty\n");

        Assert.Contains("appPort", error.Message, StringComparison.Ordinal);
        Assert.Contains("'eighty'", error.Message, StringComparison.Ordinal);
        Assert.Contains("appID 'a'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_command_given_as_one_string_is_an_error()
    {
        _dir.Dir("a");

        var error = ParseFails("version: 1\napps:\n  - appDirPath: a\n    command: node app.js\n");

        Assert.Contains("command", error.Message, StringComparison.Ordinal);
        Assert.Contains("must be a list", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Duplicate_app_ids_are_an_error()
    {
        _dir.Dir("a");
        _dir.Dir("b");

        var error = ParseFails("version: 1\napps:\n  - appID: same\n    appDirPath: a\n  - appID: same\n    appDirPath: b\n");

        Assert.Contains("'same'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_port_used_twice_is_an_error_naming_both_users()
    {
        _dir.Dir("a");
        _dir.Dir("b");

        var error = ParseFails("""
            version: 1
            apps:
              - appID: a
                appDirPath: a
                appPort: 3500
              - appID: b
                appDirPath: b
                daprHTTPPort: 3500
            """);

        Assert.Contains("3500", error.Message, StringComparison.Ordinal);
        Assert.Contains("a appPort", error.Message, StringComparison.Ordinal);
        Assert.Contains("b daprHTTPPort", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_yaml_is_an_error_with_a_line_number()
    {
        var error = ParseFails("version: 1\napps: [\n");

        Assert.Contains("not valid YAML", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("4Mi", 4L * 1024 * 1024)]
    [InlineData("512Ki", 512L * 1024)]
    [InlineData("1G", 1_000_000_000L)]
    [InlineData("1000", 1000L)]
    public void Body_sizes_are_kubernetes_quantities(string text, long bytes) =>
        Assert.Equal(bytes, RunFileParser.ParseQuantity(text));
}
