using AgentVerse.Runtime.Components;
using AgentVerse.Runtime.PubSub;
using AgentVerse.Runtime.Secrets;

namespace AgentVerse.Runtime.Tests.Components;

// State stores belong to another branch (their Create is a stub here), so these tests use secret stores and pub/sub.
[Collection(ProcessEnvironmentTests.Name)]
public sealed class ComponentRegistryTests : IDisposable
{
    private readonly ResourceDirectory _dir = new();
    private readonly ResourceDirectory _other = new();

    public void Dispose()
    {
        _dir.Dispose();
        _other.Dispose();
    }

    private static Task<ComponentRegistry> CreateAsync(params string[] paths) =>
        ComponentRegistry.CreateAsync(paths, TimeProvider.System, CancellationToken.None);

    private const string SecretsFileStore = """
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: secrets
        spec:
          type: secretstores.local.file
          version: v1
          metadata:
            - name: secretsFile
              value: "{0}"
        """;

    private string WriteSecretsStore(string json)
    {
        var file = _dir.Write("secrets.json", json);
        return _dir.Write("secrets.yaml", SecretsFileStore.Replace("{0}", file, StringComparison.Ordinal));
    }

    private static string PubSub(string name, string metadata = "[]", string extra = "") => $"""
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: {name}
        spec:
          type: pubsub.in-memory
          version: v1
          metadata: {metadata}
        {extra}
        """;

    [Fact]
    public async Task Creates_secret_stores_and_pubsubs_from_a_directory()
    {
        WriteSecretsStore("""{"a": "1"}""");
        _dir.Write("env.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: env
            spec:
              type: secretstores.local.env
              version: v1
            """);
        _dir.Write("pubsub.yaml", PubSub("pubsub"));

        await using var registry = await CreateAsync(_dir.Path);

        Assert.Equal(3, registry.Components.Count);
        Assert.IsType<LocalFileSecretStore>(registry.Components.Single(c => c.Definition.Name == "secrets").SecretStore);
        Assert.IsType<LocalEnvSecretStore>(registry.Components.Single(c => c.Definition.Name == "env").SecretStore);
        Assert.IsType<InMemoryPubSub>(registry.Components.Single(c => c.Definition.Name == "pubsub").PubSub);
        Assert.All(registry.Components, c => Assert.Equal(ComponentRegistry.NormalizePath(_dir.Path), c.ResourcesPath));
    }

    [Fact]
    public async Task Missing_resources_path_fails_naming_it()
    {
        var missing = Path.Combine(_dir.Path, "missing");

        var ex = await Assert.ThrowsAsync<ComponentLoadException>(() => CreateAsync(_dir.Path, missing));

        Assert.Contains(missing, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task For_filters_by_scope_and_resources_path()
    {
        _dir.Write("a.yaml", PubSub("everyone"));
        _dir.Write("b.yaml", PubSub("orders-only", extra: "scopes: [orders]"));
        _other.Write("c.yaml", PubSub("other-path"));

        await using var registry = await CreateAsync(_dir.Path, _other.Path);

        Assert.Equal(["everyone", "orders-only"], registry.For("orders", [_dir.Path]).Select(c => c.Definition.Name).Order());
        Assert.Equal(["everyone"], registry.For("web", [_dir.Path + Path.DirectorySeparatorChar]).Select(c => c.Definition.Name));
        Assert.Equal(["everyone", "other-path"], registry.For("web", [_dir.Path, _other.Path]).Select(c => c.Definition.Name).Order());
    }

    [Fact]
    public async Task Apps_sharing_a_path_share_one_instance_and_the_same_path_twice_loads_once()
    {
        _dir.Write("a.yaml", PubSub("pubsub"));

        await using var registry = await CreateAsync(_dir.Path, _dir.Path + "/");

        var one = registry.For("a", [_dir.Path]).Single();
        var two = registry.For("b", [_dir.Path]).Single();
        Assert.Same(one.Instance, two.Instance);
    }

    [Fact]
    public async Task Same_name_in_two_paths_is_fine_until_one_app_sees_both()
    {
        _dir.Write("a.yaml", PubSub("pubsub"));
        _other.Write("a.yaml", PubSub("pubsub"));

        await using var registry = await CreateAsync(_dir.Path, _other.Path);

        Assert.Equal(2, registry.Components.Count);
        var ex = Assert.Throws<ComponentLoadException>(() => registry.For("c", [_dir.Path, _other.Path]).ToList());
        Assert.Equal(("pubsub", "metadata.name"), (ex.Component, ex.Field));
    }

    [Fact]
    public async Task In_memory_brokers_of_the_same_name_in_different_paths_are_one_broker()
    {
        _dir.Write("a.yaml", PubSub("pubsub"));
        _other.Write("a.yaml", PubSub("pubsub"));
        _other.Write("b.yaml", PubSub("private"));

        await using var registry = await CreateAsync(_dir.Path, _other.Path);

        var orders = registry.For("orders", [_dir.Path]).Single();
        var billing = registry.For("billing", [_other.Path]).Single(c => c.Definition.Name == "pubsub");
        Assert.NotEqual(orders.ResourcesPath, billing.ResourcesPath);
        Assert.Same(orders.Instance, billing.Instance);

        var received = new TaskCompletionSource<BrokerMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var sub = billing.PubSub!.Subscribe("t", "billing", (m, ct) => { received.TrySetResult(m); return Task.CompletedTask; });
        await orders.PubSub!.PublishAsync("t", new BrokerMessage(new byte[] { 1 }, "application/octet-stream", new Dictionary<string, string>()), CancellationToken.None);
        Assert.Equal(new byte[] { 1 }, (await received.Task.WaitAsync(TimeSpan.FromSeconds(20))).Data.ToArray());
    }

    [Fact]
    public async Task SubscriptionsFor_filters_by_scope_and_path()
    {
        _dir.Write("subs.yaml", """
            apiVersion: dapr.io/v2alpha1
            kind: Subscription
            metadata:
              name: all
            spec:
              pubsubname: pubsub
              topic: t
              routes:
                default: /t
            ---
            apiVersion: dapr.io/v1alpha1
            kind: Subscription
            metadata:
              name: orders-only
            spec:
              pubsubname: pubsub
              topic: t
              route: /t
            scopes: [orders]
            """);

        await using var registry = await CreateAsync(_dir.Path, _other.Path);

        Assert.Equal(2, registry.Subscriptions.Count);
        Assert.Equal(["all", "orders-only"], registry.SubscriptionsFor("orders", [_dir.Path]).Select(s => s.Name));
        Assert.Equal(["all"], registry.SubscriptionsFor("web", [_dir.Path]).Select(s => s.Name));
        Assert.Empty(registry.SubscriptionsFor("orders", [_other.Path]));
    }

    [Fact]
    public async Task SecretKeyRef_is_resolved_from_the_auth_secret_store_key_defaulting_to_the_name()
    {
        WriteSecretsStore("""{"pubsub": {"password": "s3cret"}, "token": "t0ken"}""");
        _dir.Write("pubsub.yaml", PubSub("pubsub", metadata: """

                - name: password
                  secretKeyRef:
                    name: pubsub:password
                - name: token
                  secretKeyRef:
                    name: token
                    key: token
                - name: plain
                  value: x
            """, extra: "auth:\n  secretStore: secrets"));

        await using var registry = await CreateAsync(_dir.Path);

        var definition = registry.Components.Single(c => c.Definition.Name == "pubsub").Definition;
        Assert.Equal("s3cret", definition.Metadata["password"]);
        Assert.Equal("t0ken", definition.Metadata["token"]);
        Assert.Equal("x", definition.Metadata["plain"]);
        Assert.Empty(definition.SecretRefs);
    }

    [Fact]
    public async Task Secret_store_can_take_its_metadata_from_another_secret_store_defined_later()
    {
        var secretsJson = _dir.Write("secrets.json", """{"x": "1"}""");
        var env = "AV_TEST_SECRETS_FILE_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(env, secretsJson);
        try
        {
            _dir.Write("a-file.yaml", $"""
                apiVersion: dapr.io/v1alpha1
                kind: Component
                metadata:
                  name: file
                spec:
                  type: secretstores.local.file
                  metadata:
                    - name: secretsFile
                      secretKeyRef:
                        name: {env}
                auth:
                  secretStore: z-env
                """);
            _dir.Write("z-env.yaml", """
                apiVersion: dapr.io/v1alpha1
                kind: Component
                metadata:
                  name: z-env
                spec:
                  type: secretstores.local.env
                """);

            await using var registry = await CreateAsync(_dir.Path);

            var file = registry.Components.Single(c => c.Definition.Name == "file").SecretStore!;
            Assert.Equal("1", (await file.GetSecretAsync("x", new Dictionary<string, string>(), CancellationToken.None))["x"]);
        }
        finally
        {
            Environment.SetEnvironmentVariable(env, null);
        }
    }

    [Fact]
    public async Task Unresolvable_secretKeyRef_fails_naming_file_component_and_field()
    {
        WriteSecretsStore("""{"other": "1"}""");
        _dir.Write("pubsub.yaml", PubSub("pubsub", metadata: """

                - name: password
                  secretKeyRef:
                    name: missing
            """, extra: "auth:\n  secretStore: secrets"));

        var ex = await Assert.ThrowsAsync<ComponentLoadException>(() => CreateAsync(_dir.Path));

        Assert.Contains("pubsub.yaml", ex.Message, StringComparison.Ordinal);
        Assert.Equal(("pubsub", "spec.metadata.password.secretKeyRef"), (ex.Component, ex.Field));
        Assert.Contains("missing", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SecretKeyRef_with_a_missing_key_fails()
    {
        WriteSecretsStore("""{"pw": "1"}""");
        _dir.Write("pubsub.yaml", PubSub("pubsub", metadata: """

                - name: password
                  secretKeyRef:
                    name: pw
                    key: nope
            """, extra: "auth:\n  secretStore: secrets"));

        var ex = await Assert.ThrowsAsync<ComponentLoadException>(() => CreateAsync(_dir.Path));

        Assert.Equal(("pubsub", "spec.metadata.password.secretKeyRef"), (ex.Component, ex.Field));
        Assert.Contains("'nope'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SecretKeyRef_without_auth_secretStore_fails_because_self_hosted_has_no_default_store()
    {
        WriteSecretsStore("""{"pw": "1"}""");
        _dir.Write("pubsub.yaml", PubSub("pubsub", metadata: """

                - name: password
                  secretKeyRef:
                    name: pw
            """));

        var ex = await Assert.ThrowsAsync<ComponentLoadException>(() => CreateAsync(_dir.Path));

        Assert.Equal(("pubsub", "spec.metadata.password.secretKeyRef"), (ex.Component, ex.Field));
        Assert.Contains("auth.secretStore", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SecretKeyRef_to_an_unknown_store_fails_naming_auth_secretStore()
    {
        _dir.Write("pubsub.yaml", PubSub("pubsub", metadata: """

                - name: password
                  secretKeyRef:
                    name: pw
            """, extra: "auth:\n  secretStore: vault"));

        var ex = await Assert.ThrowsAsync<ComponentLoadException>(() => CreateAsync(_dir.Path));

        Assert.Equal(("pubsub", "auth.secretStore"), (ex.Component, ex.Field));
        Assert.Contains("vault", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IgnoreErrors_skips_a_failing_component_instead_of_failing_start_up()
    {
        _dir.Write("pubsub.yaml", PubSub("broken", metadata: """

                - name: password
                  secretKeyRef:
                    name: pw
              ignoreErrors: true
            """, extra: "auth:\n  secretStore: vault"));
        _dir.Write("ok.yaml", PubSub("ok"));

        await using var registry = await CreateAsync(_dir.Path);

        Assert.Equal(["ok"], registry.Components.Select(c => c.Definition.Name));
    }

    [Fact]
    public async Task Secrets_file_that_is_not_json_fails_start_up()
    {
        WriteSecretsStore("not json");

        var ex = await Assert.ThrowsAsync<ComponentLoadException>(() => CreateAsync(_dir.Path));

        Assert.Equal(("secrets", "spec.metadata.secretsFile"), (ex.Component, ex.Field));
    }

    [Fact]
    public async Task AppID_template_is_resolved_for_a_component_scoped_to_one_app_and_kept_otherwise()
    {
        _dir.Write("a.yaml", PubSub("single", metadata: "\n    - name: consumerID\n      value: \"{appID}-group\"", extra: "scopes: [orders]"));
        _dir.Write("b.yaml", PubSub("shared", metadata: "\n    - name: consumerID\n      value: \"{appID}-group\""));

        await using var registry = await CreateAsync(_dir.Path);

        Assert.Equal("orders-group", registry.Components.Single(c => c.Definition.Name == "single").Definition.Metadata["consumerID"]);
        Assert.Equal("{appID}-group", registry.Components.Single(c => c.Definition.Name == "shared").Definition.Metadata["consumerID"]);
    }

    [Fact]
    public async Task Dispose_disposes_the_brokers()
    {
        _dir.Write("pubsub.yaml", PubSub("pubsub"));
        var registry = await CreateAsync(_dir.Path);
        var pubsub = registry.Components.Single().PubSub!;

        await registry.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() =>
            pubsub.PublishAsync("t", new BrokerMessage(Array.Empty<byte>(), "text/plain", new Dictionary<string, string>()), CancellationToken.None));
    }
}
