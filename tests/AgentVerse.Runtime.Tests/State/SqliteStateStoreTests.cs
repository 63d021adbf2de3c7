using System.Text;
using AgentVerse.Runtime.Components;
using AgentVerse.Runtime.State;
using Microsoft.Data.Sqlite;

namespace AgentVerse.Runtime.Tests.State;

public sealed class SqliteStateStoreTests : StateStoreContractTests
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("av-sqlite-");

    private string DatabasePath => Path.Combine(_directory.FullName, "nested", "state.db");

    protected override IStateStore CreateStore(TimeProvider time) => CreateWith(time, ("connectionString", DatabasePath));

    private static IStateStore CreateWith(TimeProvider time, params (string, string)[] metadata) =>
        SqliteStateStore.Create(TestComponents.Definition("state.sqlite", "v1", metadata), time);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _directory.Delete(recursive: true);
    }

    [Fact]
    public async Task Data_survives_closing_and_reopening_the_file()
    {
        await SetAsync("app||durable", "{\"n\": 1}");
        await Store.SetAsync(new StateSetRequest("app||binary", new byte[] { 0, 0xff, 0x10 }), Ct);
        var etag = (await GetRequiredAsync("app||durable")).ETag;
        await Store.DisposeAsync();

        await using var reopened = CreateStore(Time);
        await reopened.InitAsync(Ct);

        var entry = await reopened.GetAsync("app||durable", Ct);
        Assert.NotNull(entry);
        Assert.Equal("{\"n\": 1}", Encoding.UTF8.GetString(entry.Value.Span));
        Assert.Equal(etag, entry.ETag);
        Assert.Equal(new byte[] { 0, 0xff, 0x10 }, (await reopened.GetAsync("app||binary", Ct))!.Value.ToArray());
    }

    [Fact]
    public async Task A_successful_set_is_on_disk_before_the_store_closes()
    {
        await SetAsync("app||crash", "\"kept\"");

        // Copy the files as a killed process would leave them: no checkpoint, no clean close.
        var crashDir = Directory.CreateDirectory(Path.Combine(_directory.FullName, "crash"));
        foreach (var suffix in new[] { "", "-wal" })
        {
            if (File.Exists(DatabasePath + suffix))
            {
                await using var source = new FileStream(DatabasePath + suffix, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                await using var target = File.Create(Path.Combine(crashDir.FullName, "state.db" + suffix));
                await source.CopyToAsync(target);
            }
        }

        await using var recovered = CreateWith(Time, ("connectionString", Path.Combine(crashDir.FullName, "state.db")));
        await recovered.InitAsync(Ct);
        Assert.Equal("\"kept\"", Encoding.UTF8.GetString((await recovered.GetAsync("app||crash", Ct))!.Value.Span));
    }

    [Fact]
    public async Task The_file_uses_the_components_contrib_schema_and_wal()
    {
        await SetAsync("app||k", "\"v\"", ttl: TimeSpan.FromSeconds(60));
        await Store.SetAsync(new StateSetRequest("app||bin", new byte[] { 0xff }), Ct);

        await using var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT key, value, is_binary, length(etag), expiration_time IS NOT NULL, update_time IS NOT NULL FROM state ORDER BY key";
        await using (var reader = await command.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync());
            Assert.Equal(("app||bin", "/w==", true, 36L), (reader.GetString(0), reader.GetString(1), reader.GetBoolean(2), reader.GetInt64(3)));
            Assert.True(await reader.ReadAsync());
            Assert.Equal(("app||k", "\"v\"", false, true, true), (reader.GetString(0), reader.GetString(1), reader.GetBoolean(2), reader.GetBoolean(4), reader.GetBoolean(5)));
        }

        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", (string?)await command.ExecuteScalarAsync());
        command.CommandText = "SELECT value FROM metadata WHERE key = 'migrations'";
        Assert.Equal("1", (string?)await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Cleanup_removes_expired_rows_from_the_table()
    {
        await using var store = CreateWith(Time, ("connectionString", Path.Combine(_directory.FullName, "gc.db")), ("cleanupInterval", "100ms"));
        await store.InitAsync(Ct);
        await store.SetAsync(new StateSetRequest("app||k", Bytes("1"), Ttl: TimeSpan.FromSeconds(1)), Ct);
        Time.Advance(TimeSpan.FromSeconds(5));

        await using var connection = new SqliteConnection($"Data Source={Path.Combine(_directory.FullName, "gc.db")};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM state";
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((long)(await command.ExecuteScalarAsync())! != 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "expired row was not cleaned up");
            await Task.Delay(50);
        }
    }

    [Theory]
    [InlineData(":memory:")]
    [InlineData("file::memory:")]
    public async Task An_in_memory_database_works(string connectionString)
    {
        await using var store = CreateWith(Time, ("connectionString", connectionString));
        await store.InitAsync(Ct);

        await store.SetAsync(new StateSetRequest("app||k", Bytes("1")), Ct);
        await store.ExecuteTransactionAsync([new UpsertOperation(new StateSetRequest("app||k2", Bytes("2")))], Ct);

        Assert.Equal("1", Encoding.UTF8.GetString((await store.GetAsync("app||k", Ct))!.Value.Span));
        Assert.NotNull(await store.GetAsync("app||k2", Ct));
    }

    [Fact]
    public async Task A_file_uri_with_daprd_options_and_the_url_alias_work()
    {
        var path = Path.Combine(_directory.FullName, "uri dir", "db.sqlite");
        var uri = "file:" + path.Replace(" ", "%20", StringComparison.Ordinal) + "?_pragma=busy_timeout(5000)&_txlock=immediate";
        await using var store = CreateWith(Time, ("url", uri), ("tableName", "custom_state"), ("metadataTableName", "custom_meta"));
        await store.InitAsync(Ct);
        await store.SetAsync(new StateSetRequest("app||k", Bytes("1")), Ct);

        Assert.True(File.Exists(path));
        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM custom_state";
        Assert.Equal(1L, await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Many_concurrent_writers_never_see_busy_errors()
    {
        await Task.WhenAll(Enumerable.Range(0, 400).Select(i => Task.Run(async () =>
        {
            var key = $"app||load-{i % 40}";
            await SetAsync(key, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await Store.GetAsync(key, Ct);
            if (i % 7 == 0) await Store.DeleteAsync(new StateDeleteRequest(key), Ct);
            if (i % 5 == 0)
            {
                await Store.ExecuteTransactionAsync(
                [
                    new UpsertOperation(new StateSetRequest(key + "-a", Bytes("a"))),
                    new UpsertOperation(new StateSetRequest(key + "-b", Bytes("b"))),
                ], Ct);
            }
        })));
    }

    [Fact]
    public async Task Two_stores_on_one_file_share_data_and_etags()
    {
        await using var second = CreateStore(Time);
        await second.InitAsync(Ct);
        await SetAsync("app||k", "1");
        var etag = (await GetRequiredAsync("app||k")).ETag;

        await second.SetAsync(new StateSetRequest("app||k", Bytes("2"), etag), Ct);

        await Assert.ThrowsAsync<ETagMismatchException>(() => SetAsync("app||k", "3", etag: etag));
        Assert.Equal("2", Encoding.UTF8.GetString((await GetRequiredAsync("app||k")).Value.Span));
    }

    [Theory]
    [InlineData(new[] { "tableName", "state;drop" }, "tableName")]
    [InlineData(new[] { "metadataTableName", "a b" }, "metadataTableName")]
    [InlineData(new[] { "timeout", "soon" }, "timeout")]
    [InlineData(new[] { "timeout", "0s" }, "timeout")]
    [InlineData(new[] { "busyTimeout", "2 seconds" }, "busyTimeout")]
    [InlineData(new[] { "cleanupInterval", "1x" }, "cleanupInterval")]
    [InlineData(new[] { "disableWAL", "maybe" }, "disableWAL")]
    [InlineData(new[] { "cleanupIntervalInSeconds", "often" }, "cleanupIntervalInSeconds")]
    public void Create_rejects_bad_metadata_naming_the_field(string[] setting, string field)
    {
        var definition = TestComponents.Definition("state.sqlite", "v1", ("connectionString", "x.db"), (setting[0], setting[1]));

        var ex = Assert.Throws<ComponentLoadException>(() => SqliteStateStore.Create(definition, TimeProvider.System));

        Assert.Equal(field, ex.Field);
        Assert.Contains($"field '{field}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("components/statestore.yaml", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_requires_a_connection_string()
    {
        var ex = Assert.Throws<ComponentLoadException>(() => SqliteStateStore.Create(TestComponents.Definition("state.sqlite"), TimeProvider.System));

        Assert.Equal("connectionString", ex.Field);
        Assert.Contains("connectionString", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_accepts_go_durations_and_case_insensitive_names()
    {
        var definition = TestComponents.Definition("state.sqlite", "v1",
            ("CONNECTIONSTRING", "x.db"), ("timeout", "1m30s"), ("busyTimeout", "500ms"), ("cleanupIntervalInSeconds", "3600"), ("disableWAL", "true"));

        Assert.NotNull(SqliteStateStore.Create(definition, TimeProvider.System));
    }
}
