using AgentVerse.Runtime.Components;
using AgentVerse.Runtime.Secrets;

namespace AgentVerse.Runtime.Tests.Components;

[Collection(ProcessEnvironmentTests.Name)]
public sealed class SecretStoreTests : IDisposable
{
    private static readonly Dictionary<string, string> NoMetadata = [];
    private readonly ResourceDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static ComponentDefinition Definition(string type, params (string Key, string Value)[] metadata) => new(
        "secrets", type, "v1", metadata.ToDictionary(m => m.Key, m => m.Value), new Dictionary<string, SecretKeyRef>(), null, [], "secrets.yaml");

    private const string Nested = """
        {
          "redisPassword": "pw",
          "connectionStrings": { "sql": "Server=sql", "mysql": "Server=mysql", "ports": [1433, 3306] },
          "enabled": true,
          "nothing": null
        }
        """;

    [Fact]
    public async Task Local_file_flattens_nested_json_into_single_valued_secrets()
    {
        var file = _dir.Write("s.json", Nested);
        var store = await LocalFileSecretStore.CreateAsync(Definition("secretstores.local.file", ("secretsFile", file)), null, CancellationToken.None);

        Assert.Equal(new Dictionary<string, string> { ["redisPassword"] = "pw" }, await store.GetSecretAsync("redisPassword", NoMetadata, CancellationToken.None));
        Assert.Equal("Server=sql", (await store.GetSecretAsync("connectionStrings:sql", NoMetadata, CancellationToken.None))["connectionStrings:sql"]);
        Assert.Equal("3306", (await store.GetSecretAsync("connectionStrings:ports:1", NoMetadata, CancellationToken.None))["connectionStrings:ports:1"]);
        Assert.Equal("true", (await store.GetSecretAsync("enabled", NoMetadata, CancellationToken.None))["enabled"]);

        var all = await store.BulkGetSecretAsync(NoMetadata, CancellationToken.None);
        Assert.Equal(
            ["connectionStrings:mysql", "connectionStrings:ports:0", "connectionStrings:ports:1", "connectionStrings:sql", "enabled", "nothing", "redisPassword"],
            all.Keys.Order(StringComparer.Ordinal));
        Assert.All(all, kv => Assert.Equal([kv.Key], kv.Value.Keys));
    }

    [Fact]
    public async Task Local_file_uses_the_nested_separator()
    {
        var file = _dir.Write("s.json", Nested);
        var store = await LocalFileSecretStore.CreateAsync(
            Definition("secretstores.local.file", ("secretsFile", file), ("nestedSeparator", ".")), null, CancellationToken.None);

        Assert.Equal("Server=mysql", (await store.GetSecretAsync("connectionStrings.mysql", NoMetadata, CancellationToken.None))["connectionStrings.mysql"]);
    }

    [Fact]
    public async Task Local_file_multi_valued_makes_top_level_keys_secrets_with_flattened_maps()
    {
        var file = _dir.Write("s.json", """
            {
              "redisPassword": "pw",
              "db": { "user": "sa", "nested": { "a": "1" }, "ports": [1] },
              "ignored": 42
            }
            """);
        var store = await LocalFileSecretStore.CreateAsync(
            Definition("secretstores.local.file", ("secretsFile", file), ("MultiValued", "true")), null, CancellationToken.None);

        var db = await store.GetSecretAsync("db", NoMetadata, CancellationToken.None);
        Assert.Equal(new Dictionary<string, string> { ["user"] = "sa", ["nested:a"] = "1", ["ports:0"] = "1" }, db);
        Assert.Equal(new Dictionary<string, string> { ["redisPassword"] = "pw" }, await store.GetSecretAsync("redisPassword", NoMetadata, CancellationToken.None));
        // components-contrib keeps only top-level strings and objects in multi-valued mode.
        Assert.Equal(["db", "redisPassword"], (await store.BulkGetSecretAsync(NoMetadata, CancellationToken.None)).Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Local_file_unknown_secret_throws_SecretNotFoundException()
    {
        var file = _dir.Write("s.json", """{"a": "1"}""");
        var store = await LocalFileSecretStore.CreateAsync(Definition("secretstores.local.file", ("secretsFile", file)), null, CancellationToken.None);

        var ex = await Assert.ThrowsAsync<SecretNotFoundException>(() => store.GetSecretAsync("b", NoMetadata, CancellationToken.None));
        Assert.Equal("b", ex.SecretName);
    }

    [Fact]
    public async Task Local_file_requires_secretsFile()
    {
        var ex = await Assert.ThrowsAsync<ComponentLoadException>(() =>
            LocalFileSecretStore.CreateAsync(Definition("secretstores.local.file"), null, CancellationToken.None));

        Assert.Equal(("secrets", "spec.metadata.secretsFile"), (ex.Component, ex.Field));
        Assert.Contains("secrets.yaml", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Local_file_sees_a_file_created_or_changed_after_start_up()
    {
        var file = Path.Combine(_dir.Path, "later.json");
        var store = await LocalFileSecretStore.CreateAsync(Definition("secretstores.local.file", ("secretsFile", file)), null, CancellationToken.None);
        await Assert.ThrowsAsync<SecretNotFoundException>(() => store.GetSecretAsync("a", NoMetadata, CancellationToken.None));

        File.WriteAllText(file, """{"a": "1"}""");
        Assert.Equal("1", (await store.GetSecretAsync("a", NoMetadata, CancellationToken.None))["a"]);

        File.WriteAllText(file, """{"a": "22"}""");
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddSeconds(5)); // coarse file-system clocks
        Assert.Equal("22", (await store.GetSecretAsync("a", NoMetadata, CancellationToken.None))["a"]);
    }

    [Fact]
    public async Task Local_file_keeps_serving_the_last_good_content_while_the_file_is_half_written()
    {
        var file = _dir.Write("s.json", """{"a": "1"}""");
        var store = await LocalFileSecretStore.CreateAsync(Definition("secretstores.local.file", ("secretsFile", file)), null, CancellationToken.None);
        Assert.Equal("1", (await store.GetSecretAsync("a", NoMetadata, CancellationToken.None))["a"]);

        File.WriteAllText(file, """{"a": "2", """);

        Assert.Equal("1", (await store.GetSecretAsync("a", NoMetadata, CancellationToken.None))["a"]);
    }

    [Fact]
    public async Task Local_file_relative_path_is_resolved_against_the_current_directory()
    {
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, _dir.Write("rel.json", """{"a": "1"}"""));
        var store = await LocalFileSecretStore.CreateAsync(Definition("secretstores.local.file", ("secretsFile", relative)), null, CancellationToken.None);

        Assert.Equal(Path.Combine(_dir.Path, "rel.json"), store.SecretsFile);
        Assert.Equal("1", (await store.GetSecretAsync("a", NoMetadata, CancellationToken.None))["a"]);
    }

    [Fact]
    public async Task Local_env_reads_variables_with_the_prefix_stripped()
    {
        var prefix = "AVTEST" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant() + "_";
        Environment.SetEnvironmentVariable(prefix + "DB_PASSWORD", "pw");
        Environment.SetEnvironmentVariable(prefix + "API_KEY", "key");
        try
        {
            var store = LocalEnvSecretStore.Create(Definition("secretstores.local.env", ("prefix", prefix)));

            Assert.Equal(new Dictionary<string, string> { ["DB_PASSWORD"] = "pw" }, await store.GetSecretAsync("DB_PASSWORD", NoMetadata, CancellationToken.None));
            var all = await store.BulkGetSecretAsync(NoMetadata, CancellationToken.None);
            Assert.Equal(["API_KEY", "DB_PASSWORD"], all.Keys.Order(StringComparer.Ordinal));
            Assert.Equal("key", all["API_KEY"]["API_KEY"]);
            // Without the prefix the variable is not reachable under its short name.
            Assert.Equal("", (await new LocalEnvSecretStore().GetSecretAsync("DB_PASSWORD", NoMetadata, CancellationToken.None))["DB_PASSWORD"]);
        }
        finally
        {
            Environment.SetEnvironmentVariable(prefix + "DB_PASSWORD", null);
            Environment.SetEnvironmentVariable(prefix + "API_KEY", null);
        }
    }

    [Fact]
    public async Task Local_env_never_exposes_dapr_variables_or_the_app_token()
    {
        var visible = "AV_TEST_VISIBLE_" + Guid.NewGuid().ToString("N");
        var previousAppToken = Environment.GetEnvironmentVariable("APP_API_TOKEN");
        Environment.SetEnvironmentVariable("DAPR_AV_TEST_TOKEN", "dapr");
        Environment.SetEnvironmentVariable("dapr_av_test_lower", "dapr");
        Environment.SetEnvironmentVariable("APP_API_TOKEN", "app");
        Environment.SetEnvironmentVariable(visible, "ok");
        try
        {
            var store = new LocalEnvSecretStore();

            Assert.Equal("", (await store.GetSecretAsync("DAPR_AV_TEST_TOKEN", NoMetadata, CancellationToken.None))["DAPR_AV_TEST_TOKEN"]);
            Assert.Equal("", (await store.GetSecretAsync("APP_API_TOKEN", NoMetadata, CancellationToken.None))["APP_API_TOKEN"]);
            Assert.Equal("ok", (await store.GetSecretAsync(visible, NoMetadata, CancellationToken.None))[visible]);

            var all = await store.BulkGetSecretAsync(NoMetadata, CancellationToken.None);
            Assert.Contains(visible, all.Keys);
            Assert.DoesNotContain(all.Keys, k => k == "APP_API_TOKEN" || k.StartsWith("DAPR_", StringComparison.OrdinalIgnoreCase));

            // The check is on the full variable name: a prefix of DAPR_ hides everything.
            var daprPrefixed = new LocalEnvSecretStore("DAPR_");
            Assert.Equal("", (await daprPrefixed.GetSecretAsync("AV_TEST_TOKEN", NoMetadata, CancellationToken.None))["AV_TEST_TOKEN"]);
            Assert.Empty(await daprPrefixed.BulkGetSecretAsync(NoMetadata, CancellationToken.None));
        }
        finally
        {
            Environment.SetEnvironmentVariable("DAPR_AV_TEST_TOKEN", null);
            Environment.SetEnvironmentVariable("dapr_av_test_lower", null);
            Environment.SetEnvironmentVariable("APP_API_TOKEN", previousAppToken);
            Environment.SetEnvironmentVariable(visible, null);
        }
    }
}
