using AgentVerse.Runtime.Components;

namespace AgentVerse.Runtime.Tests.Components;

[Collection(ProcessEnvironmentTests.Name)]
public sealed class ResourceLoaderTests : IDisposable
{
    private readonly ResourceDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private Task<ResourceSet> LoadAsync() => ResourceLoader.LoadDirectoryAsync(_dir.Path, null, CancellationToken.None);

    private async Task<ComponentLoadException> LoadFailsAsync() => await Assert.ThrowsAsync<ComponentLoadException>(LoadAsync);

    [Fact]
    public async Task Loads_components_of_every_supported_type_with_metadata_scopes_and_spec_fields()
    {
        _dir.Write("pubsub.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: pubsub
            spec:
              type: pubsub.in-memory
              version: v1
              metadata: []
            scopes:
              - orders
              - billing
            """);
        _dir.Write("state.yml", """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: statestore
            spec:
              type: state.postgresql
              version: v2
              initTimeout: 1m30s
              ignoreErrors: true
              metadata:
                - name: connectionString
                  value: "host=localhost"
                - name: actorStateStore
                  value: true
                - name: maxConns
                  value: 12
                - name: password
                  secretKeyRef:
                    name: pg
                    key: password
            auth:
              secretStore: secrets
            ---
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: secrets
            spec:
              type: secretstores.local.env
              version: v1
            """);
        _dir.Write("readme.txt", "not yaml, ignored");

        var set = await LoadAsync();

        Assert.Equal(["pubsub", "statestore", "secrets"], set.Components.Select(c => c.Definition.Name));
        var pubsub = set.Components[0].Definition;
        Assert.Equal(("pubsub.in-memory", "v1"), (pubsub.Type, pubsub.Version));
        Assert.Equal(["orders", "billing"], pubsub.Scopes);
        Assert.True(pubsub.IsVisibleTo("orders"));
        Assert.False(pubsub.IsVisibleTo("web"));
        Assert.EndsWith("pubsub.yaml", pubsub.SourceFile, StringComparison.Ordinal);

        var state = set.Components[1];
        Assert.Equal("v2", state.Definition.Version);
        Assert.Equal(TimeSpan.FromSeconds(90), state.InitTimeout);
        Assert.True(state.IgnoreErrors);
        Assert.Equal("host=localhost", state.Definition.Metadata["connectionString"]);
        Assert.Equal("true", state.Definition.Get("ACTORSTATESTORE"));
        Assert.Equal("12", state.Definition.Metadata["maxConns"]);
        Assert.Equal(new SecretKeyRef("pg", "password"), state.Definition.SecretRefs["password"]);
        Assert.False(state.Definition.Metadata.ContainsKey("password"));
        Assert.Equal("secrets", state.Definition.SecretStore);

        var secrets = set.Components[2];
        Assert.Equal(ResourceLoader.DefaultInitTimeout, secrets.InitTimeout);
        Assert.False(secrets.IgnoreErrors);
        Assert.Empty(secrets.Definition.Scopes);
    }

    [Fact]
    public async Task Skips_other_kinds_and_api_versions()
    {
        _dir.Write("misc.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Configuration
            metadata:
              name: config
            spec:
              tracing:
                samplingRate: "1"
            ---
            apiVersion: dapr.io/v1alpha1
            kind: Resiliency
            metadata:
              name: resiliency
            spec: {}
            ---
            apiVersion: dapr.io/v1alpha1
            kind: HTTPEndpoint
            metadata:
              name: ext
            spec:
              baseUrl: http://example.com
            ---
            apiVersion: dapr.io/v2
            kind: Component
            metadata:
              name: future
            spec:
              type: bindings.cron
            ---
            """);

        var set = await LoadAsync();

        Assert.Empty(set.Components);
        Assert.Empty(set.Subscriptions);
    }

    [Theory]
    [InlineData("", "v1")]
    [InlineData("version: v0", "v1")]
    [InlineData("version: V1", "v1")]
    public async Task A_missing_or_initial_version_is_v1_as_daprd_treats_it(string versionLine, string expected)
    {
        _dir.Write("c.yaml", $"""
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: store
            spec:
              type: State.In-Memory
              {versionLine}
            """);

        var definition = (await LoadAsync()).Components.Single().Definition;

        Assert.Equal("state.in-memory", definition.Type);
        Assert.Equal(expected, definition.Version);
    }

    [Fact]
    public async Task Uuid_tags_get_a_fresh_uuid_each_and_app_tags_wait_for_the_app()
    {
        _dir.Write("c.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: store
            spec:
              type: state.sqlite
              metadata:
                - name: connectionString
                  value: "{uuid}-{uuid}.db"
                - name: tableName
                  value: "state_{appID}"
                - name: keyPrefix
                  value: "{namespace}"
            """);

        var definition = (await LoadAsync()).Components.Single().Definition;
        var parts = definition.Metadata["connectionString"][..^3].Split('-', 10);
        Assert.Equal(10, parts.Length); // two GUIDs of five groups each
        Assert.NotEqual(string.Join('-', parts[..5]), string.Join('-', parts[5..]));
        Assert.Equal("state_{appID}", definition.Metadata["tableName"]);

        var forApp = ResourceLoader.ApplyAppTemplates(definition, "orders", "prod");
        Assert.Equal("state_orders", forApp.Metadata["tableName"]);
        Assert.Equal("prod.orders", forApp.Metadata["keyPrefix"]);
    }

    [Fact]
    public async Task EnvRef_reads_the_variable_but_never_the_sidecar_tokens()
    {
        var name = "AV_TEST_ENVREF_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(name, "from-env");
        Environment.SetEnvironmentVariable("DAPR_AV_TEST_SECRET", "hidden");
        try
        {
            _dir.Write("c.yaml", $"""
                apiVersion: dapr.io/v1alpha1
                kind: Component
                metadata:
                  name: store
                spec:
                  type: state.in-memory
                  metadata:
                    - name: fromEnv
                      envRef: {name}
                    - name: token
                      envRef: DAPR_AV_TEST_SECRET
                    - name: appToken
                      envRef: APP_API_TOKEN
                """);

            var metadata = (await LoadAsync()).Components.Single().Definition.Metadata;

            Assert.Equal("from-env", metadata["fromEnv"]);
            Assert.Equal("", metadata["token"]);
            Assert.Equal("", metadata["appToken"]);
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
            Environment.SetEnvironmentVariable("DAPR_AV_TEST_SECRET", null);
        }
    }

    [Fact]
    public async Task Structured_metadata_values_become_json()
    {
        _dir.Write("c.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: store
            spec:
              type: state.in-memory
              metadata:
                - name: list
                  value: [1, "two", true, null]
                - name: map
                  value: {a: 1.5, b: "x"}
                - name: empty
                  value:
            """);

        var metadata = (await LoadAsync()).Components.Single().Definition.Metadata;

        Assert.Equal("""[1,"two",true,null]""", metadata["list"]);
        Assert.Equal("""{"a":1.5,"b":"x"}""", metadata["map"]);
        Assert.Equal("", metadata["empty"]);
    }

    [Fact]
    public async Task Loads_v1alpha1_subscription_route_as_the_default_route()
    {
        _dir.Write("sub.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Subscription
            metadata:
              name: orders-sub
            spec:
              pubsubname: pubsub
              topic: orders
              route: /orders
              deadLetterTopic: orders-dlq
              metadata:
                rawPayload: true
            scopes:
              - orders
            """);

        var sub = (await LoadAsync()).Subscriptions.Single();

        Assert.Equal(("orders-sub", "pubsub", "orders"), (sub.Name, sub.PubsubName, sub.Topic));
        Assert.Equal("/orders", sub.DefaultRoute);
        Assert.Empty(sub.Rules);
        Assert.Equal("orders-dlq", sub.DeadLetterTopic);
        Assert.Equal("true", sub.Metadata["rawPayload"]);
        Assert.Equal(["orders"], sub.Scopes);
    }

    [Fact]
    public async Task Loads_v2alpha1_subscription_rules_in_order_with_default()
    {
        _dir.Write("sub.yaml", """
            apiVersion: dapr.io/v2alpha1
            kind: Subscription
            metadata:
              name: orders-sub
            spec:
              pubsubname: pubsub
              topic: orders
              routes:
                rules:
                  - match: event.type == "order.created"
                    path: /created
                  - match: event.type == "order.deleted"
                    path: /deleted
                default: /other
            """);

        var sub = (await LoadAsync()).Subscriptions.Single();

        Assert.Equal([new RouteRule("event.type == \"order.created\"", "/created"), new RouteRule("event.type == \"order.deleted\"", "/deleted")], sub.Rules);
        Assert.Equal("/other", sub.DefaultRoute);
        Assert.Null(sub.DeadLetterTopic);
        Assert.Empty(sub.Scopes);
    }

    [Fact]
    public async Task Missing_directory_names_the_path()
    {
        var missing = Path.Combine(_dir.Path, "nope");

        var ex = await Assert.ThrowsAsync<ComponentLoadException>(() => ResourceLoader.LoadDirectoryAsync(missing, null, CancellationToken.None));

        Assert.Contains(missing, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Malformed_yaml_names_the_file_and_line()
    {
        _dir.Write("broken.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: [unclosed
            """);

        var ex = await LoadFailsAsync();

        Assert.Contains("broken.yaml", ex.Message, StringComparison.Ordinal);
        Assert.Contains("malformed YAML at line", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("duplicate key", "apiVersion: dapr.io/v1alpha1\nkind: Component\nkind: Component\n")]
    [InlineData("tab indentation", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n\tname: x\n")]
    [InlineData("not a mapping", "- just\n- a list\n")]
    public void Malformed_documents_name_the_file(string because, string yaml)
    {
        var ex = Assert.Throws<ComponentLoadException>(() => ResourceLoader.Parse(yaml, "odd.yaml"));

        Assert.True(ex.Message.StartsWith("odd.yaml: ", StringComparison.Ordinal), because + ": " + ex.Message);
    }

    public static TheoryData<string, string?, string, string> InvalidComponents => new()
    {
        {
            "unknown type",
            "cache", "spec.type", """
            metadata:
              name: cache
            spec:
              type: state.redis
              version: v1
            """
        },
        {
            "unsupported version",
            "cache", "spec.version", """
            metadata:
              name: cache
            spec:
              type: state.sqlite
              version: v2
            """
        },
        {
            "missing name",
            null, "metadata.name", """
            metadata: {}
            spec:
              type: state.in-memory
            """
        },
        {
            "missing type",
            "cache", "spec.type", """
            metadata:
              name: cache
            spec:
              version: v1
            """
        },
        {
            "metadata item without name",
            "cache", "spec.metadata[1].name", """
            metadata:
              name: cache
            spec:
              type: state.in-memory
              metadata:
                - name: ok
                  value: "1"
                - value: "2"
            """
        },
        {
            "secretKeyRef without name",
            "cache", "spec.metadata.password.secretKeyRef.name", """
            metadata:
              name: cache
            spec:
              type: state.in-memory
              metadata:
                - name: password
                  secretKeyRef:
                    key: pw
            auth:
              secretStore: secrets
            """
        },
        {
            "bad initTimeout",
            "cache", "spec.initTimeout", """
            metadata:
              name: cache
            spec:
              type: state.in-memory
              initTimeout: soon
            """
        },
        {
            "podName outside Kubernetes",
            "cache", "spec.metadata.tableName", """
            metadata:
              name: cache
            spec:
              type: state.sqlite
              metadata:
                - name: tableName
                  value: "t_{podName}"
            """
        },
    };

    [Theory]
    [MemberData(nameof(InvalidComponents))]
    public async Task Invalid_component_names_file_component_and_field(string because, string? component, string field, string body)
    {
        _dir.Write("bad.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\n" + body);

        var ex = await LoadFailsAsync();

        Assert.True(ex.Message.Contains("bad.yaml", StringComparison.Ordinal), because + ": " + ex.Message);
        if (component is not null)
        {
            Assert.True(ex.Message.Contains($"component '{component}'", StringComparison.Ordinal), because + ": " + ex.Message);
        }
        Assert.True(ex.Message.Contains($"field '{field}'", StringComparison.Ordinal), because + ": " + ex.Message);
        Assert.Equal((component, field), (ex.Component, ex.Field));
    }

    [Fact]
    public async Task Unknown_type_lists_the_supported_types()
    {
        _dir.Write("bad.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: cache
            spec:
              type: state.redis
            """);

        var ex = await LoadFailsAsync();

        foreach (var type in ResourceLoader.SupportedTypes.Keys)
        {
            Assert.Contains(type, ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Unknown_type_with_ignoreErrors_is_skipped()
    {
        _dir.Write("c.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: cache
            spec:
              type: state.redis
              ignoreErrors: true
            ---
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: pubsub
            spec:
              type: pubsub.in-memory
            """);

        var set = await LoadAsync();

        Assert.Equal(["pubsub"], set.Components.Select(c => c.Definition.Name));
    }

    [Fact]
    public async Task Duplicate_component_name_across_files_names_both_files()
    {
        const string component = """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: pubsub
            spec:
              type: pubsub.in-memory
            """;
        _dir.Write("a.yaml", component);
        _dir.Write("b.yaml", component);

        var ex = await LoadFailsAsync();

        Assert.Contains("b.yaml", ex.Message, StringComparison.Ordinal);
        Assert.Contains("a.yaml", ex.Message, StringComparison.Ordinal);
        Assert.Equal(("pubsub", "metadata.name"), (ex.Component, ex.Field));
    }

    [Fact]
    public async Task Duplicate_component_name_in_one_file_fails()
    {
        _dir.Write("a.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: pubsub
            spec:
              type: pubsub.in-memory
            ---
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: pubsub
            spec:
              type: state.in-memory
            """);

        var ex = await LoadFailsAsync();

        Assert.Equal(("pubsub", "metadata.name"), (ex.Component, ex.Field));
    }

    [Theory]
    [InlineData("dapr.io/v1alpha1", "spec:\n  pubsubname: pubsub\n  route: /x", "spec.topic")]
    [InlineData("dapr.io/v1alpha1", "spec:\n  topic: t\n  route: /x", "spec.pubsubname")]
    [InlineData("dapr.io/v1alpha1", "spec:\n  pubsubname: pubsub\n  topic: t", "spec.route")]
    [InlineData("dapr.io/v2alpha1", "spec:\n  pubsubname: pubsub\n  topic: t", "spec.routes")]
    [InlineData("dapr.io/v2alpha1", "spec:\n  pubsubname: pubsub\n  topic: t\n  routes:\n    rules:\n      - match: x", "spec.routes.rules[0].path")]
    public async Task Invalid_subscription_names_file_subscription_and_field(string apiVersion, string spec, string field)
    {
        _dir.Write("sub.yaml", $"apiVersion: {apiVersion}\nkind: Subscription\nmetadata:\n  name: mysub\n{spec}\n");

        var ex = await LoadFailsAsync();

        Assert.Contains("sub.yaml", ex.Message, StringComparison.Ordinal);
        Assert.Equal(("mysub", field), (ex.Component, ex.Field));
    }
}
