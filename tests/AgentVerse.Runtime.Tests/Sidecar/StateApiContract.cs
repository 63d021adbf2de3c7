using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AgentVerse.Testing;

namespace AgentVerse.Runtime.Tests.Sidecar;

/// <summary>
/// The state API as daprd serves it, through real HTTP against the runtime. Each store type runs the
/// same contract (in-memory, SQLite, PostgreSQL v1 and v2).
/// </summary>
public abstract class StateApiContract : IAsyncLifetime
{
    private RuntimeRun _run = null!;

    protected HttpClient Sidecar => _run.Client("app1");

    /// <summary>The component YAML for a store named <c>statestore</c>.</summary>
    protected abstract Task<string> StateStoreYamlAsync();

    public async Task InitializeAsync() => _run = await RuntimeRun.StartAsync([await StateStoreYamlAsync()], new AppSpec("app1"), new AppSpec("app2"));

    public async Task DisposeAsync() => await _run.DisposeAsync();

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private Task<HttpResponseMessage> SaveAsync(string items, string query = "") => Sidecar.PostAsync($"v1.0/state/statestore{query}", Json(items));

    private async Task<string?> ETagOfAsync(string key)
    {
        using var response = await Sidecar.GetAsync($"v1.0/state/statestore/{key}");
        return response.Headers.ETag?.Tag ?? response.Headers.GetValues("ETag").FirstOrDefault();
    }

    private static async Task AssertDaprErrorAsync(HttpResponseMessage response, HttpStatusCode status, string errorCode)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        using var json = JsonDocument.Parse(body);
        Assert.Equal(errorCode, json.RootElement.GetProperty("errorCode").GetString());
        Assert.False(string.IsNullOrEmpty(json.RootElement.GetProperty("message").GetString()));
    }

    [Fact]
    public async Task Save_then_get_returns_the_json_value_with_an_etag()
    {
        using var saved = await SaveAsync("""[{"key":"order-1","value":{"id":1,"items":["a","b"]}},{"key":"name","value":"DeathStar"}]""");
        Assert.Equal(HttpStatusCode.NoContent, saved.StatusCode);

        using var order = await Sidecar.GetAsync("v1.0/state/statestore/order-1");
        Assert.Equal(HttpStatusCode.OK, order.StatusCode);
        Assert.Equal("application/json", order.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(await order.Content.ReadAsStringAsync());
        Assert.Equal(1, doc.RootElement.GetProperty("id").GetInt32());
        Assert.NotEmpty(order.Headers.GetValues("ETag").Single());

        // A string value is stored as JSON, quotes included (daprd).
        Assert.Equal("\"DeathStar\"", await Sidecar.GetStringAsync("v1.0/state/statestore/name"));
    }

    [Fact]
    public async Task Get_of_a_missing_key_returns_204()
    {
        using var response = await Sidecar.GetAsync("v1.0/state/statestore/nothing-here");
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    [Fact]
    public async Task Save_with_a_stale_etag_returns_409_and_keeps_the_newer_value()
    {
        (await SaveAsync("""[{"key":"k","value":1}]""")).Dispose();
        var first = await ETagOfAsync("k");
        (await SaveAsync($$"""[{"key":"k","value":2,"etag":"{{first}}"}]""")).Dispose();
        var second = await ETagOfAsync("k");
        Assert.NotEqual(first, second);

        using var stale = await SaveAsync($$"""[{"key":"k","value":3,"etag":"{{first}}"}]""");
        await AssertDaprErrorAsync(stale, HttpStatusCode.Conflict, "ERR_STATE_SAVE");
        Assert.Equal("2", await Sidecar.GetStringAsync("v1.0/state/statestore/k"));

        using var fresh = await SaveAsync($$"""[{"key":"k","value":4,"etag":"{{second}}"}]""");
        Assert.Equal(HttpStatusCode.NoContent, fresh.StatusCode);
    }

    [Fact]
    public async Task First_write_concurrency_refuses_to_overwrite_an_existing_key()
    {
        using var created = await SaveAsync("""[{"key":"fw","value":1,"options":{"concurrency":"first-write"}}]""");
        Assert.Equal(HttpStatusCode.NoContent, created.StatusCode);
        using var again = await SaveAsync("""[{"key":"fw","value":2,"options":{"concurrency":"first-write"}}]""");
        await AssertDaprErrorAsync(again, HttpStatusCode.Conflict, "ERR_STATE_SAVE");
    }

    [Fact]
    public async Task Delete_honours_if_match()
    {
        (await SaveAsync("""[{"key":"d","value":1}]""")).Dispose();
        var etag = await ETagOfAsync("d");
        (await SaveAsync("""[{"key":"d","value":2}]""")).Dispose();

        using var stale = new HttpRequestMessage(HttpMethod.Delete, "v1.0/state/statestore/d");
        stale.Headers.TryAddWithoutValidation("If-Match", etag);
        await AssertDaprErrorAsync(await Sidecar.SendAsync(stale), HttpStatusCode.Conflict, "ERR_STATE_DELETE");

        using var current = new HttpRequestMessage(HttpMethod.Delete, "v1.0/state/statestore/d");
        current.Headers.TryAddWithoutValidation("If-Match", await ETagOfAsync("d"));
        Assert.Equal(HttpStatusCode.NoContent, (await Sidecar.SendAsync(current)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Sidecar.GetAsync("v1.0/state/statestore/d")).StatusCode);
    }

    [Fact]
    public async Task Bulk_get_returns_data_and_etags_in_request_order()
    {
        (await SaveAsync("""[{"key":"b1","value":{"n":1}},{"key":"b2","value":"two"}]""")).Dispose();
        using var response = await Sidecar.PostAsync("v1.0/state/statestore/bulk", Json("""{"keys":["b2","missing","b1"],"parallelism":2}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var items = doc.RootElement.EnumerateArray().ToList();
        Assert.Equal(["b2", "missing", "b1"], items.Select(i => i.GetProperty("key").GetString()));
        Assert.Equal("two", items[0].GetProperty("data").GetString());
        Assert.False(items[1].TryGetProperty("data", out _));
        Assert.Equal(1, items[2].GetProperty("data").GetProperty("n").GetInt32());
        Assert.False(string.IsNullOrEmpty(items[2].GetProperty("etag").GetString()));
    }

    [Fact]
    public async Task A_transaction_with_a_stale_etag_applies_nothing()
    {
        (await SaveAsync("""[{"key":"t1","value":"old"},{"key":"t2","value":"old"}]""")).Dispose();
        using var response = await Sidecar.PostAsync("v1.0/state/statestore/transaction", Json("""
            {"operations":[
              {"operation":"upsert","request":{"key":"t1","value":"new"}},
              {"operation":"delete","request":{"key":"t2"}},
              {"operation":"upsert","request":{"key":"t3","value":"new","etag":"999999"}}
            ]}
            """));
        await AssertDaprErrorAsync(response, HttpStatusCode.InternalServerError, "ERR_STATE_TRANSACTION");
        Assert.Equal("\"old\"", await Sidecar.GetStringAsync("v1.0/state/statestore/t1"));
        Assert.Equal("\"old\"", await Sidecar.GetStringAsync("v1.0/state/statestore/t2"));
        Assert.Equal(HttpStatusCode.NoContent, (await Sidecar.GetAsync("v1.0/state/statestore/t3")).StatusCode);
    }

    [Fact]
    public async Task Concurrent_transactions_never_interleave()
    {
        // Each writer puts its own value into both keys in one transaction, last-write-wins. Were transactions
        // not atomic and isolated, the keys could end up holding values from different writers.
        const int writers = 24;
        var results = await Task.WhenAll(Enumerable.Range(0, writers).Select(async w =>
        {
            using var tx = await Sidecar.PostAsync("v1.0/state/statestore/transaction", Json($$$"""
                {"operations":[
                  {"operation":"upsert","request":{"key":"left","value":"writer-{{{w}}}"}},
                  {"operation":"upsert","request":{"key":"right","value":"writer-{{{w}}}"}}
                ]}
                """));
            return tx.StatusCode;
        }));

        Assert.All(results, status => Assert.Equal(HttpStatusCode.NoContent, status));
        Assert.Equal(await Sidecar.GetStringAsync("v1.0/state/statestore/left"), await Sidecar.GetStringAsync("v1.0/state/statestore/right"));
    }

    [Fact]
    public async Task Concurrent_etag_guarded_transactions_lose_no_update()
    {
        (await SaveAsync("""[{"key":"counter","value":0},{"key":"mirror","value":0}]""")).Dispose();
        const int writers = 16;

        // Read-modify-write with ETags, retried on conflict: every increment lands exactly once in both keys.
        await Task.WhenAll(Enumerable.Range(0, writers).Select(async _ =>
        {
            while (true)
            {
                using var bulk = await Sidecar.PostAsync("v1.0/state/statestore/bulk", Json("""{"keys":["counter","mirror"]}"""));
                using var doc = JsonDocument.Parse(await bulk.Content.ReadAsStringAsync());
                var counter = doc.RootElement[0];
                var mirror = doc.RootElement[1];
                var value = counter.GetProperty("data").GetInt32();
                using var tx = await Sidecar.PostAsync("v1.0/state/statestore/transaction", Json($$$"""
                    {"operations":[
                      {"operation":"upsert","request":{"key":"counter","value":{{{value + 1}}},"etag":"{{{counter.GetProperty("etag").GetString()}}}"}},
                      {"operation":"upsert","request":{"key":"mirror","value":{{{value + 1}}},"etag":"{{{mirror.GetProperty("etag").GetString()}}}"}}
                    ]}
                    """));
                if (tx.IsSuccessStatusCode)
                {
                    return;
                }
            }
        }));

        Assert.Equal($"{writers}", await Sidecar.GetStringAsync("v1.0/state/statestore/counter"));
        Assert.Equal($"{writers}", await Sidecar.GetStringAsync("v1.0/state/statestore/mirror"));
    }

    [Fact]
    public async Task Ttl_from_query_metadata_expires_the_item()
    {
        using var saved = await SaveAsync("""[{"key":"ephemeral","value":"soon gone"}]""", "?metadata.ttlInSeconds=1");
        Assert.Equal(HttpStatusCode.NoContent, saved.StatusCode);
        using var fresh = await Sidecar.GetAsync("v1.0/state/statestore/ephemeral");
        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        Assert.True(DateTimeOffset.TryParse(fresh.Headers.GetValues("metadata.ttlExpireTime").Single(), out var expires));
        Assert.InRange(expires, DateTimeOffset.UtcNow.AddSeconds(-5), DateTimeOffset.UtcNow.AddSeconds(5));

        await Task.Delay(TimeSpan.FromSeconds(2.2));
        Assert.Equal(HttpStatusCode.NoContent, (await Sidecar.GetAsync("v1.0/state/statestore/ephemeral")).StatusCode);
    }

    [Fact]
    public async Task Ttl_in_item_metadata_minus_one_never_expires()
    {
        using var saved = await SaveAsync("""[{"key":"forever","value":1,"metadata":{"ttlInSeconds":"-1"}}]""");
        Assert.Equal(HttpStatusCode.NoContent, saved.StatusCode);
        using var got = await Sidecar.GetAsync("v1.0/state/statestore/forever");
        Assert.False(got.Headers.Contains("metadata.ttlExpireTime"));
    }

    [Fact]
    public async Task Keys_are_isolated_per_app_id()
    {
        (await SaveAsync("""[{"key":"shared-name","value":"from app1"}]""")).Dispose();
        using var other = await _run.Client("app2").GetAsync("v1.0/state/statestore/shared-name");
        Assert.Equal(HttpStatusCode.NoContent, other.StatusCode);
    }

    [Fact]
    public async Task Bad_requests_get_daprd_error_codes()
    {
        await AssertDaprErrorAsync(await Sidecar.GetAsync("v1.0/state/nostore/k"), HttpStatusCode.BadRequest, "ERR_STATE_STORE_NOT_FOUND");
        await AssertDaprErrorAsync(await Sidecar.GetAsync("v1.0/state/statestore/a||b"), HttpStatusCode.BadRequest, "ERR_MALFORMED_REQUEST");
        await AssertDaprErrorAsync(await SaveAsync("""{"key":"not-an-array"}"""), HttpStatusCode.BadRequest, "ERR_MALFORMED_REQUEST");
        await AssertDaprErrorAsync(await SaveAsync("""[{"value":1}]"""), HttpStatusCode.BadRequest, "ERR_MALFORMED_REQUEST");
        await AssertDaprErrorAsync(await Sidecar.PostAsync("v1.0/state/statestore/transaction", Json("""{"operations":[{"operation":"merge","request":{"key":"x"}}]}""")),
            HttpStatusCode.BadRequest, "ERR_NOT_SUPPORTED_STATE_OPERATION");
    }
}

public sealed class InMemoryStateApiTests : StateApiContract
{
    protected override Task<string> StateStoreYamlAsync() => Task.FromResult(ComponentYaml.InMemoryState);
}

public sealed class SqliteStateApiTests : StateApiContract
{
    protected override Task<string> StateStoreYamlAsync() => Task.FromResult($"""
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: statestore
        spec:
          type: state.sqlite
          version: v1
          metadata:
          - name: connectionString
            value: "{Path.Combine(TempDirectory.Create(), "state.db")}"
          - name: actorStateStore
            value: "true"
        """);
}

/// <summary>The same HTTP contract on <c>state.postgresql</c> v1 (jsonb rows, xmin ETags) against a throwaway cluster.</summary>
[Collection(Postgres.PostgresTests.Name)]
public sealed class PostgresV1StateApiTests(Postgres.PostgresCluster cluster) : StateApiContract
{
    protected override async Task<string> StateStoreYamlAsync() => PostgresYaml("v1", await cluster.CreateDatabaseAsync());

    internal static string PostgresYaml(string version, string connectionString) => $"""
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: statestore
        spec:
          type: state.postgresql
          version: {version}
          metadata:
          - name: connectionString
            value: "{connectionString}"
        """;
}

/// <summary>The same HTTP contract on <c>state.postgresql</c> v2 (bytea values, uuid ETags).</summary>
[Collection(Postgres.PostgresTests.Name)]
public sealed class PostgresV2StateApiTests(Postgres.PostgresCluster cluster) : StateApiContract
{
    protected override async Task<string> StateStoreYamlAsync() => PostgresV1StateApiTests.PostgresYaml("v2", await cluster.CreateDatabaseAsync());
}
