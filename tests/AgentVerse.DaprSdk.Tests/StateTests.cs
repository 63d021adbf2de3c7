using System.Text.Json;
using Dapr;
using Dapr.Client;
using Grpc.Core;

namespace AgentVerse.DaprSdk.Tests;

/// <summary>The state API over gRPC as DaprClient uses it: ETags, first-write, bulk, transactions, TTL.</summary>
[Collection(SdkAppTests.Name)]
public sealed class StateTests(SdkAppRun run)
{
    private const string Store = "wfstate";
    private static readonly StateOptions FirstWrite = new() { Concurrency = ConcurrencyMode.FirstWrite };

    private static string NewKey() => "key-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task Saved_state_reads_back_with_an_etag_and_a_stale_etag_is_refused()
    {
        var key = NewKey();
        await run.Dapr.SaveStateAsync(Store, key, new Counter(1));
        var (first, etag) = await run.Dapr.GetStateAndETagAsync<Counter>(Store, key);
        await run.Dapr.SaveStateAsync(Store, key, new Counter(2));

        Assert.Equal(1, first.Value);
        Assert.False(string.IsNullOrEmpty(etag));
        Assert.False(await run.Dapr.TrySaveStateAsync(Store, key, new Counter(3), etag));
        var (current, currentETag) = await run.Dapr.GetStateAndETagAsync<Counter>(Store, key);
        Assert.Equal(2, current.Value);
        Assert.True(await run.Dapr.TrySaveStateAsync(Store, key, new Counter(4), currentETag));
        Assert.Equal(4, (await run.Dapr.GetStateAsync<Counter>(Store, key)).Value);
    }

    [Fact]
    public async Task First_write_with_an_empty_etag_creates_a_key_only_once()
    {
        var key = NewKey();

        Assert.True(await run.Dapr.TrySaveStateAsync(Store, key, new Counter(1), "", FirstWrite));
        Assert.False(await run.Dapr.TrySaveStateAsync(Store, key, new Counter(2), "", FirstWrite));
        Assert.Equal(1, (await run.Dapr.GetStateAsync<Counter>(Store, key)).Value);
    }

    [Fact]
    public async Task A_missing_key_reads_as_default_with_an_empty_etag()
    {
        var (value, etag) = await run.Dapr.GetStateAndETagAsync<Counter>(Store, NewKey());

        Assert.Null(value);
        Assert.Equal("", etag);
    }

    [Fact]
    public async Task Delete_with_a_stale_etag_is_refused_and_with_the_current_one_succeeds()
    {
        var key = NewKey();
        await run.Dapr.SaveStateAsync(Store, key, new Counter(1));
        var (_, stale) = await run.Dapr.GetStateAndETagAsync<Counter>(Store, key);
        await run.Dapr.SaveStateAsync(Store, key, new Counter(2));
        var (_, current) = await run.Dapr.GetStateAndETagAsync<Counter>(Store, key);

        Assert.False(await run.Dapr.TryDeleteStateAsync(Store, key, stale));
        Assert.True(await run.Dapr.TryDeleteStateAsync(Store, key, current));
        Assert.Null(await run.Dapr.GetStateAsync<Counter>(Store, key));
    }

    [Fact]
    public async Task Bulk_get_answers_every_key_with_its_etag_and_missing_ones_empty()
    {
        var (a, b, missing) = (NewKey(), NewKey(), NewKey());
        await run.Dapr.SaveStateAsync(Store, a, new Counter(1));
        await run.Dapr.SaveStateAsync(Store, b, new Counter(2));

        var items = await run.Dapr.GetBulkStateAsync<Counter>(Store, [a, b, missing], parallelism: null);

        Assert.Equal(3, items.Count);
        Assert.Equal(1, items.Single(i => i.Key == a).Value.Value);
        Assert.Equal(2, items.Single(i => i.Key == b).Value.Value);
        Assert.False(string.IsNullOrEmpty(items.Single(i => i.Key == a).ETag));
        Assert.Null(items.Single(i => i.Key == missing).Value);
    }

    [Fact]
    public async Task A_transaction_applies_all_of_its_operations_or_none()
    {
        var (a, b, c) = (NewKey(), NewKey(), NewKey());
        await run.Dapr.SaveStateAsync(Store, c, new Counter(0));
        await run.Dapr.ExecuteStateTransactionAsync(Store,
        [
            new StateTransactionRequest(a, Json(new Counter(1)), StateOperationType.Upsert),
            new StateTransactionRequest(b, Json(new Counter(2)), StateOperationType.Upsert),
            new StateTransactionRequest(c, null, StateOperationType.Delete),
        ]);

        // The second operation names a stale ETag: the whole transaction fails and the first is not applied either.
        var failed = await Assert.ThrowsAsync<DaprException>(() => run.Dapr.ExecuteStateTransactionAsync(Store,
        [
            new StateTransactionRequest(a, Json(new Counter(10)), StateOperationType.Upsert),
            new StateTransactionRequest(b, Json(new Counter(20)), StateOperationType.Upsert, etag: "999999"),
        ]));

        Assert.Equal(StatusCode.Internal, Assert.IsType<RpcException>(failed.InnerException).StatusCode);
        Assert.Equal(1, (await run.Dapr.GetStateAsync<Counter>(Store, a)).Value);
        Assert.Equal(2, (await run.Dapr.GetStateAsync<Counter>(Store, b)).Value);
        Assert.Null(await run.Dapr.GetStateAsync<Counter>(Store, c));
    }

    [Fact]
    public async Task An_item_saved_with_a_ttl_expires()
    {
        var key = NewKey();
        await run.Dapr.SaveStateAsync(Store, key, new Counter(1), metadata: new Dictionary<string, string> { ["ttlInSeconds"] = "1" });

        Assert.NotNull(await run.Dapr.GetStateAsync<Counter>(Store, key));
        await SdkAppRun.EventuallyAsync(async () => await run.Dapr.GetStateAsync<Counter>(Store, key) is null, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task An_unknown_store_is_INVALID_ARGUMENT_with_daprds_message()
    {
        var error = await Assert.ThrowsAsync<DaprException>(() => run.Dapr.GetStateAsync<Counter>("nope", NewKey()));

        var status = Assert.IsType<RpcException>(error.InnerException).Status;
        Assert.Equal(StatusCode.InvalidArgument, status.StatusCode);
        Assert.Equal("state store nope is not found", status.Detail);
    }

    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private static byte[] Json<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Web);

    public sealed record Counter(int Value);
}
