using AgentVerse.Cli.Launch;
using AgentVerse.Cli.RunFiles;

namespace AgentVerse.IntegrationTests.Launcher;

public sealed class AppEnvironmentTests
{
    private static AppStatus Status(RunFileApp app) => new(app) { DaprHttpPort = 3600, DaprGrpcPort = 50100 };

    [Fact]
    public void Apps_get_what_dapr_run_gives_them()
    {
        var env = MultiAppRun.EnvironmentFor(Status(new RunFileApp { AppId = "orders", AppDirPath = "/tmp", AppPort = 8080 }));

        Assert.Equal("orders", env["APP_ID"]);
        Assert.Equal("8080", env["APP_PORT"]);
        Assert.Equal("127.0.0.1", env["APP_CHANNEL_ADDRESS"]);
        Assert.Equal("http", env["APP_PROTOCOL"]);
        Assert.Equal("3600", env["DAPR_HTTP_PORT"]);
        Assert.Equal("50100", env["DAPR_GRPC_PORT"]);
        Assert.False(env.ContainsKey("DAPR_API_TOKEN"));
    }

    [Fact]
    public void An_app_without_a_port_gets_no_APP_PORT()
    {
        var env = MultiAppRun.EnvironmentFor(Status(new RunFileApp { AppId = "job", AppDirPath = "/tmp" }));

        Assert.False(env.ContainsKey("APP_PORT"));
    }

    [Fact]
    public void Tokens_reach_the_app_and_the_run_file_env_has_the_last_word()
    {
        var app = new RunFileApp
        {
            AppId = "orders",
            AppDirPath = "/tmp",
            DaprApiToken = "dapr-token",
            AppApiToken = "app-token",
            Env = new Dictionary<string, string> { ["APP_PROTOCOL"] = "h2c", ["LEVEL"] = "debug" },
        };

        var env = MultiAppRun.EnvironmentFor(Status(app));

        Assert.Equal("dapr-token", env["DAPR_API_TOKEN"]);
        Assert.Equal("app-token", env["APP_API_TOKEN"]);
        Assert.Equal("h2c", env["APP_PROTOCOL"]);
        Assert.Equal("debug", env["LEVEL"]);
    }
}
