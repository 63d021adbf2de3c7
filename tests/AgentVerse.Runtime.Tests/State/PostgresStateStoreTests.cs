using System.Text;
using AgentVerse.Runtime.Components;
using AgentVerse.Runtime.State;
using AgentVerse.Runtime.Tests.Postgres;
using Npgsql;

namespace AgentVerse.Runtime.Tests.State;

/// <summary>Contract and table-layout tests shared by both versions; each test gets its own tables.</summary>
public abstract class PostgresStateStoreTests(PostgresCluster cluster, string version) : StateStoreContractTests
{
    private static int s_tableCounter;

    protected PostgresCluster Cluster { get; } = cluster;

    /// <summary>This test's state table name.</summary>
    protected string Table { get; } = version == "v2"
        ? $"t{Interlocked.Increment(ref s_tableCounter)}_{version}_state"
        : $"state_{Interlocked.Increment(ref s_tableCounter)}_{version}";

    protected override IStateStore CreateStore(TimeProvider time) => CreateWith(time);

    protected IStateStore CreateWith(TimeProvider time, params (string Name, string Value)[] extra)
    {
        (string, string) table = version == "v2" ? ("tablePrefix", Table[..^"state".Length]) : ("tableName", Table);
        return PostgresStateStore.Create(
            TestComponents.Definition("state.postgresql", version, [("connectionString", Cluster.ConnectionString), table, .. extra]), time);
    }

    protected async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(Cluster.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Features_are_etag_transactional_and_ttl()
    {
        Assert.Equal(StateStoreFeatures.ETag | StateStoreFeatures.Transactional | StateStoreFeatures.Ttl, Store.Features);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task Cleanup_removes_expired_rows_from_the_table()
    {
        await using var store = CreateWith(Time, ("cleanupInterval", "100ms"));
        await store.InitAsync(Ct);
        await store.SetAsync(new StateSetRequest("app||old", Bytes("1"), Ttl: TimeSpan.FromSeconds(1)), Ct);
        await store.SetAsync(new StateSetRequest("app||keep", Bytes("1")), Ct);
        Time.Advance(TimeSpan.FromSeconds(5));

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (await ScalarAsync<long>($"SELECT count(*) FROM {Table}") != 1)
        {
            Assert.True(DateTime.UtcNow < deadline, "expired row was not cleaned up");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Data_survives_reopening_and_a_second_init_is_harmless()
    {
        await SetAsync("app||k", "\"v\"");
        await Store.DisposeAsync();

        await using var reopened = CreateStore(Time);
        await reopened.InitAsync(Ct);
        Assert.Equal("\"v\"", Encoding.UTF8.GetString((await reopened.GetAsync("app||k", Ct))!.Value.Span));
    }

    [Fact]
    public async Task Two_stores_on_one_table_share_data_and_etags()
    {
        await using var second = CreateStore(Time);
        await second.InitAsync(Ct);
        await SetAsync("app||k", "1");
        var etag = (await GetRequiredAsync("app||k")).ETag;

        await second.SetAsync(new StateSetRequest("app||k", Bytes("2"), etag), Ct);

        await Assert.ThrowsAsync<ETagMismatchException>(() => SetAsync("app||k", "3", etag: etag));
        Assert.Equal("2", Encoding.UTF8.GetString((await GetRequiredAsync("app||k")).Value.Span));
    }
}

[Collection(PostgresTests.Name)]
public sealed class PostgresV1StateStoreTests(PostgresCluster cluster) : PostgresStateStoreTests(cluster, "v1")
{
    protected override string? MalformedETag => "not-a-number";

    [Fact]
    public async Task Values_use_the_components_contrib_v1_layout_with_xmin_etags()
    {
        await SetAsync("app||json", "{\"b\":2,\"a\":[1, 2]}", ttl: TimeSpan.FromMinutes(1));
        await Store.SetAsync(new StateSetRequest("app||bin", new byte[] { 0xff, 0x01 }), Ct);

        Assert.Equal("{\"a\": [1, 2], \"b\": 2}", await ScalarAsync<string>($"SELECT value::text FROM {Table} WHERE key = 'app||json'"));
        Assert.False(await ScalarAsync<bool>($"SELECT isbinary FROM {Table} WHERE key = 'app||json'"));
        Assert.True(await ScalarAsync<bool>($"SELECT expiredate IS NOT NULL AND insertdate IS NOT NULL FROM {Table} WHERE key = 'app||json'"));
        Assert.Equal("\"/wE=\"", await ScalarAsync<string>($"SELECT value::text FROM {Table} WHERE key = 'app||bin'"));
        Assert.True(await ScalarAsync<bool>($"SELECT isbinary FROM {Table} WHERE key = 'app||bin'"));
        Assert.Equal(await ScalarAsync<string>($"SELECT xmin::text FROM {Table} WHERE key = 'app||bin'"), (await GetRequiredAsync("app||bin")).ETag);
        Assert.Equal("2", await ScalarAsync<string>("SELECT value FROM dapr_metadata WHERE key = 'migrations'"));
    }

    [Fact]
    public async Task Two_v1_tables_in_one_database_share_the_metadata_table()
    {
        // components-contrib records one "migrations" level per metadata table, which would skip creating a second table.
        await using var other = PostgresStateStore.Create(TestComponents.Definition("state.postgresql", "v1",
            ("connectionString", Cluster.ConnectionString), ("tableName", Table + "_other")), Time);
        await other.InitAsync(Ct);

        await other.SetAsync(new StateSetRequest("app||k", Bytes("1")), Ct);
        await SetAsync("app||k", "2");

        Assert.Equal("1", Encoding.UTF8.GetString((await other.GetAsync("app||k", Ct))!.Value.Span));
        Assert.Equal("2", Encoding.UTF8.GetString((await GetRequiredAsync("app||k")).Value.Span));
    }

    [Fact]
    public async Task Json_comes_back_normalised_by_jsonb_as_daprd_v1_returns_it()
    {
        // Deliberate fidelity to daprd: v1 keeps JSON in jsonb, which drops insignificant whitespace and orders keys.
        await SetAsync("app||k", "{ \"zeta\" : 1,\n \"a\":true }");

        Assert.Equal("{\"a\": true, \"zeta\": 1}", Encoding.UTF8.GetString((await GetRequiredAsync("app||k")).Value.Span));
    }

    [Fact]
    public async Task Json_with_an_escaped_nul_is_kept_as_binary()
    {
        await SetAsync("app||k", "\"a\\u0000b\"");

        Assert.Equal("\"a\\u0000b\"", Encoding.UTF8.GetString((await GetRequiredAsync("app||k")).Value.Span));
    }
}

[Collection(PostgresTests.Name)]
public sealed class PostgresV2StateStoreTests(PostgresCluster cluster) : PostgresStateStoreTests(cluster, "v2")
{
    protected override string? MalformedETag => "not-a-uuid";

    [Fact]
    public async Task Values_use_the_components_contrib_v2_layout_with_uuid_etags()
    {
        await SetAsync("app||json", "{\"b\":2,  \"a\":1}", ttl: TimeSpan.FromMinutes(1));
        var etag = (await GetRequiredAsync("app||json")).ETag;

        Assert.True(Guid.TryParse(etag, out _));
        Assert.Equal(etag, await ScalarAsync<Guid>($"SELECT etag FROM {Table} WHERE key = 'app||json'") is var g ? g.ToString() : null);
        Assert.Equal(Encoding.UTF8.GetBytes("{\"b\":2,  \"a\":1}"), await ScalarAsync<byte[]>($"SELECT value FROM {Table} WHERE key = 'app||json'"));
        Assert.True(await ScalarAsync<bool>($"SELECT expires_at IS NOT NULL AND created_at IS NOT NULL FROM {Table} WHERE key = 'app||json'"));
        Assert.Equal("1", await ScalarAsync<string>($"SELECT value FROM dapr_metadata WHERE key = 'migrations-state-v2-{Table[..^"state".Length]}'"));
    }
}

/// <summary>Metadata validation and connection-string forms; connects only where a test needs to.</summary>
[Collection(PostgresTests.Name)]
public sealed class PostgresStateStoreMetadataTests(PostgresCluster cluster)
{
    private static ComponentDefinition Definition(string version, params (string, string)[] metadata) =>
        TestComponents.Definition("state.postgresql", version, metadata);

    [Theory]
    [InlineData("v1")]
    [InlineData("v2")]
    public void Create_requires_a_connection_string(string version)
    {
        var ex = Assert.Throws<ComponentLoadException>(() => PostgresStateStore.Create(Definition(version), TimeProvider.System));

        Assert.Equal("connectionString", ex.Field);
        Assert.Contains("field 'connectionString'", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("v1", "tableName", "state; drop table x")]
    [InlineData("v1", "tableName", "a.b.c")]
    [InlineData("v2", "tablePrefix", "bad-prefix")]
    [InlineData("v1", "metadataTableName", "1 2")]
    [InlineData("v1", "timeout", "forever")]
    [InlineData("v2", "cleanupInterval", "1d")]
    [InlineData("v1", "maxConns", "-3")]
    [InlineData("v1", "connectionString", "host=localhost port")]
    [InlineData("v1", "connectionString", "host=localhost sslmode=sometimes")]
    [InlineData("v3", "version", "")]
    public void Create_rejects_bad_metadata_naming_the_field(string version, string field, string value)
    {
        var metadata = new List<(string, string)>();
        if (field != "connectionString") metadata.Add(("connectionString", "host=localhost user=postgres"));
        if (field != "version") metadata.Add((field, value));

        var ex = Assert.Throws<ComponentLoadException>(() => PostgresStateStore.Create(Definition(version, [.. metadata]), TimeProvider.System));

        Assert.Equal(field, ex.Field);
    }

    [Fact]
    public async Task Daprd_keyword_value_connection_strings_work()
    {
        var database = new NpgsqlConnectionStringBuilder(cluster.ConnectionString).Database;
        await AssertWorksAsync(Definition("v1",
            ("connectionString", $"host=127.0.0.1 user=postgres password='' port={cluster.Port} connect_timeout=10 database={database} application_name='agent verse'"),
            ("tableName", "kv_form")));
    }

    [Fact]
    public async Task Postgres_urls_work()
    {
        var database = new NpgsqlConnectionStringBuilder(cluster.ConnectionString).Database;
        await AssertWorksAsync(Definition("v2",
            ("connectionString", $"postgres://postgres@127.0.0.1:{cluster.Port}/{database}?sslmode=disable"),
            ("tablePrefix", "url_form_")));
    }

    [Fact]
    public async Task Separate_host_fields_work_without_a_connection_string()
    {
        var database = new NpgsqlConnectionStringBuilder(cluster.ConnectionString).Database!;
        await AssertWorksAsync(Definition("v1",
            ("host", "127.0.0.1"), ("port", cluster.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("user", "postgres"), ("database", database), ("tableName", "fields_form"), ("maxConns", "4"), ("timeout", "30s")));
    }

    [Fact]
    public async Task An_isolated_database_keeps_its_own_tables()
    {
        var connectionString = await cluster.CreateDatabaseAsync();
        await AssertWorksAsync(Definition("v2", ("connectionString", connectionString)));
    }

    private static async Task AssertWorksAsync(ComponentDefinition definition)
    {
        await using var store = PostgresStateStore.Create(definition, TimeProvider.System);
        await store.InitAsync(CancellationToken.None);
        await store.SetAsync(new StateSetRequest("app||k", Encoding.UTF8.GetBytes("\"v\"")), CancellationToken.None);
        Assert.Equal("\"v\"", Encoding.UTF8.GetString((await store.GetAsync("app||k", CancellationToken.None))!.Value.Span));
    }
}
