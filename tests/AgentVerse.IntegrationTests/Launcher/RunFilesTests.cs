using AgentVerse.Testing;
using AgentVerse.Cli.RunFiles;
using YamlDotNet.RepresentationModel;

namespace AgentVerse.IntegrationTests.Launcher;

/// <summary>The root dapr.yaml, tye.yaml and components/local describe one and the same platform.</summary>
public sealed class RunFilesTests
{
    private static readonly string[] ServiceIds = ["gateway", "agents", "orchestrator", "rag", "tools", "sqltool", "workflow-engine", "observability"];

    private static RunFile RootRunFile() => RunFileParser.Load(Path.Combine(RepoPaths.Root, "dapr.yaml"), new Dictionary<string, string?>());

    private static YamlMappingNode LoadYaml(string relativePath)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(Path.Combine(RepoPaths.Root, relativePath))));
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static YamlNode Child(YamlNode node, string key) => ((YamlMappingNode)node).Children[new YamlScalarNode(key)];

    private static string Text(YamlNode node, string key) => ((YamlScalarNode)Child(node, key)).Value!;

    [Fact]
    public void Root_dapr_yaml_runs_the_eight_services_on_their_ports_with_the_local_components()
    {
        var apps = RootRunFile().Apps;

        Assert.Equal(ServiceIds, apps.Select(a => a.AppId));
        Assert.Equal([8000, 8002, 8003, 8004, 8005, 8006, 8007, 8008], apps.Select(a => a.AppPort ?? 0));
        Assert.Equal(Enumerable.Range(3500, 8), apps.Select(a => a.DaprHttpPort));
        Assert.Equal(Enumerable.Range(3510, 8), apps.Select(a => a.DaprGrpcPort));
        Assert.All(apps, a => Assert.Equal([Path.Combine(RepoPaths.Root, "components", "local")], a.ResourcesPaths));
        Assert.All(apps, a => Assert.True(a.EnableAppHealthCheck && a.AppHealthCheckPath == "/healthz", $"{a.AppId} is probed on /healthz"));
        Assert.All(apps, a =>
        {
            // Each command starts the dll its own project builds into bin/Debug, from the project directory.
            var project = Assert.Single(Directory.GetFiles(a.AppDirPath, "*.csproj"));
            Assert.Equal(["dotnet", $"bin/Debug/net10.0/{Path.GetFileNameWithoutExtension(project)}.dll"], a.Command);
            Assert.Equal($"http://127.0.0.1:{a.AppPort}", a.Env["ASPNETCORE_URLS"]);
        });
    }

    [Fact]
    public void RunFiles_stay_in_step()
    {
        var dapr = RootRunFile().Apps.ToDictionary(a => a.AppId, a => (a.AppPort, a.DaprHttpPort, a.DaprGrpcPort, a.AppDirPath));
        var tye = LoadYaml("tye.yaml");
        var daprExtension = ((YamlSequenceNode)Child(tye, "extensions")).Children.Single(e => Text(e, "name") == "dapr");
        var sidecars = (YamlMappingNode)Child(daprExtension, "services");

        var services = ((YamlSequenceNode)Child(tye, "services")).Children.Select(s =>
        {
            var id = Text(s, "name");
            var binding = ((YamlSequenceNode)Child(s, "bindings")).Children.Single();
            var sidecar = Child(sidecars, id);
            return (Id: id,
                Ports: ((int?)int.Parse(Text(binding, "port"), System.Globalization.CultureInfo.InvariantCulture),
                    int.Parse(Text(sidecar, "http-port"), System.Globalization.CultureInfo.InvariantCulture),
                    int.Parse(Text(sidecar, "grpc-port"), System.Globalization.CultureInfo.InvariantCulture),
                    Path.GetDirectoryName(Path.Combine(RepoPaths.Root, Text(s, "project")))!));
        }).ToDictionary(s => s.Id, s => s.Ports);

        Assert.Equal(dapr.Keys.Order(), services.Keys.Order());
        Assert.All(dapr, kv => Assert.Equal(kv.Value, services[kv.Key]));
        Assert.Equal("./components/local", Text(daprExtension, "components-path"));
    }

    [Theory]
    [InlineData("statestore.yaml", "statestore", "state.sqlite")]
    [InlineData("pubsub.yaml", "pubsub", "pubsub.in-memory")]
    [InlineData("secretstore.yaml", "secretstore", "secretstores.local.file")]
    public void Local_components_are_real_dapr_components(string file, string name, string type)
    {
        var component = LoadYaml(Path.Combine("components", "local", file));

        Assert.Equal("dapr.io/v1alpha1", Text(component, "apiVersion"));
        Assert.Equal("Component", Text(component, "kind"));
        Assert.Equal(name, Text(Child(component, "metadata"), "name"));
        Assert.Equal(type, Text(Child(component, "spec"), "type"));
        Assert.Equal("v1", Text(Child(component, "spec"), "version"));
        Assert.IsType<YamlSequenceNode>(Child(Child(component, "spec"), "metadata"));
    }

    [Fact]
    public void Local_data_paths_point_into_the_git_ignored_agentverse_folder()
    {
        string Meta(string file, string key) => ((YamlSequenceNode)Child(Child(LoadYaml(Path.Combine("components", "local", file)), "spec"), "metadata"))
            .Children.Where(m => Text(m, "name") == key).Select(m => Text(m, "value")).Single();

        Assert.Equal(".agentverse/state.db", Meta("statestore.yaml", "connectionString"));
        Assert.Equal("true", Meta("statestore.yaml", "actorStateStore"));
        Assert.Equal(".agentverse/secrets.json", Meta("secretstore.yaml", "secretsFile"));
        Assert.Equal(":", Meta("secretstore.yaml", "nestedSeparator"));
        Assert.Contains(".agentverse/", File.ReadAllLines(Path.Combine(RepoPaths.Root, ".gitignore")));
    }
}
