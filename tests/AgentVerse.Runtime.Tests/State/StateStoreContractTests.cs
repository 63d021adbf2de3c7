using System.Text;
using AgentVerse.Runtime.State;

namespace AgentVerse.Runtime.Tests.State;

/// <summary>
/// The behaviour every state store shares (components-contrib conformance semantics). Each store's test
/// class derives from this and says how to build a fresh, empty, initialised store.
/// </summary>
public abstract class StateStoreContractTests : IAsyncLifetime
{
    protected ManualTimeProvider Time { get; } = new();

    protected IStateStore Store { get; private set; } = null!;

    /// <summary>A new, empty store using <paramref name="time"/> (not yet initialised).</summary>
    protected abstract IStateStore CreateStore(TimeProvider time);

    /// <summary>An ETag this store can reject as malformed, or null when its ETags are fully opaque.</summary>
    protected virtual string? MalformedETag => null;

    public async Task InitializeAsync()
    {
        Store = CreateStore(Time);
        await Store.InitAsync(CancellationToken.None);
    }

    public virtual async Task DisposeAsync() => await Store.DisposeAsync();

    protected static CancellationToken Ct => CancellationToken.None;

    protected static ReadOnlyMemory<byte> Bytes(string s) => Encoding.UTF8.GetBytes(s);

    protected Task SetAsync(string key, string value, string? etag = null, bool firstWrite = false, TimeSpan? ttl = null) =>
        Store.SetAsync(new StateSetRequest(key, Bytes(value), etag, firstWrite, ttl), Ct);

    protected async Task<StateEntry> GetRequiredAsync(string key) =>
        await Store.GetAsync(key, Ct) ?? throw new Xunit.Sdk.XunitException($"'{key}' is missing");

    [Fact]
    public async Task Get_returns_null_for_a_missing_key()
    {
        Assert.Null(await Store.GetAsync("app||nothing-here", Ct));
    }

    [Theory]
    [InlineData(new byte[] { 0x7b, 0x22, 0x61, 0x22, 0x3a, 0x20, 0x31, 0x7d })] // {"a": 1}
    [InlineData(new byte[] { 0x22, 0x44, 0x65, 0x61, 0x74, 0x68, 0x22 })] // "Death"
    [InlineData(new byte[] { 0x68, 0x65, 0x6c, 0x6c, 0x6f })] // hello (not JSON)
    [InlineData(new byte[] { 0xff, 0x00, 0xfe, 0x80, 0x01 })] // not UTF-8
    [InlineData(new byte[] { 0x22, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0x22 })] // "é€"
    [InlineData(new byte[0])]
    public async Task Set_then_get_round_trips_the_exact_bytes(byte[] value)
    {
        await Store.SetAsync(new StateSetRequest("app||k", value), Ct);

        var entry = await GetRequiredAsync("app||k");

        Assert.Equal(value, entry.Value.ToArray());
        Assert.False(string.IsNullOrEmpty(entry.ETag));
        Assert.Null(entry.ExpiresAt);
    }

    [Fact]
    public async Task Set_overwrites_without_an_etag_last_write_wins()
    {
        await SetAsync("app||k", "1");
        await SetAsync("app||k", "2");

        Assert.Equal("2", Encoding.UTF8.GetString((await GetRequiredAsync("app||k")).Value.Span));
    }

    [Fact]
    public async Task Keys_are_case_sensitive_and_independent()
    {
        await SetAsync("app||k", "1");
        await SetAsync("app||K", "2");
        await SetAsync("other||k", "3");

        Assert.Equal("1", Encoding.UTF8.GetString((await GetRequiredAsync("app||k")).Value.Span));
        Assert.Equal("2", Encoding.UTF8.GetString((await GetRequiredAsync("app||K")).Value.Span));
        Assert.Equal("3", Encoding.UTF8.GetString((await GetRequiredAsync("other||k")).Value.Span));
    }

    [Fact]
    public async Task Etag_changes_on_every_write()
    {
        var seen = new HashSet<string>();
        for (var i = 0; i < 5; i++)
        {
            await SetAsync("app||k", "\"same\"");
            Assert.True(seen.Add((await GetRequiredAsync("app||k")).ETag), "etag repeated after a write");
        }
    }

    [Fact]
    public async Task Set_with_the_current_etag_succeeds_and_a_stale_one_conflicts()
    {
        await SetAsync("app||k", "1");
        var first = (await GetRequiredAsync("app||k")).ETag;

        await SetAsync("app||k", "2", etag: first);
        var second = await GetRequiredAsync("app||k");
        Assert.Equal("2", Encoding.UTF8.GetString(second.Value.Span));

        var ex = await Assert.ThrowsAsync<ETagMismatchException>(() => SetAsync("app||k", "3", etag: first));
        Assert.Equal("app||k", ex.Key);
        Assert.Equal(second.ETag, (await GetRequiredAsync("app||k")).ETag);
    }

    [Fact]
    public async Task Set_with_an_etag_on_a_missing_key_conflicts()
    {
        await SetAsync("app||k", "1");
        var etag = (await GetRequiredAsync("app||k")).ETag;
        await Store.DeleteAsync(new StateDeleteRequest("app||k"), Ct);

        await Assert.ThrowsAsync<ETagMismatchException>(() => SetAsync("app||k", "2", etag: etag));
        Assert.Null(await Store.GetAsync("app||k", Ct));
    }

    [Fact]
    public async Task First_write_without_an_etag_succeeds_only_when_the_key_is_new()
    {
        await SetAsync("app||k", "1", firstWrite: true);

        await Assert.ThrowsAsync<ETagMismatchException>(() => SetAsync("app||k", "2", firstWrite: true));
        Assert.Equal("1", Encoding.UTF8.GetString((await GetRequiredAsync("app||k")).Value.Span));
    }

    [Fact]
    public async Task First_write_with_the_current_etag_succeeds()
    {
        await SetAsync("app||k", "1");
        var etag = (await GetRequiredAsync("app||k")).ETag;

        await SetAsync("app||k", "2", etag: etag, firstWrite: true);

        Assert.Equal("2", Encoding.UTF8.GetString((await GetRequiredAsync("app||k")).Value.Span));
    }

    [Fact]
    public async Task Delete_with_the_current_etag_removes_and_a_stale_one_conflicts()
    {
        await SetAsync("app||k", "1");
        var stale = (await GetRequiredAsync("app||k")).ETag;
        await SetAsync("app||k", "2");
        var current = (await GetRequiredAsync("app||k")).ETag;

        await Assert.ThrowsAsync<ETagMismatchException>(() => Store.DeleteAsync(new StateDeleteRequest("app||k", stale), Ct));
        Assert.NotNull(await Store.GetAsync("app||k", Ct));

        await Store.DeleteAsync(new StateDeleteRequest("app||k", current), Ct);
        Assert.Null(await Store.GetAsync("app||k", Ct));
    }

    [Fact]
    public async Task Delete_of_a_missing_key_without_an_etag_succeeds()
    {
        await Store.DeleteAsync(new StateDeleteRequest("app||missing"), Ct);
        await Store.DeleteAsync(new StateDeleteRequest("app||missing", FirstWrite: true), Ct);
    }

    [Fact]
    public async Task Delete_of_a_missing_key_with_an_etag_conflicts()
    {
        await SetAsync("app||k", "1");
        var etag = (await GetRequiredAsync("app||k")).ETag;
        await Store.DeleteAsync(new StateDeleteRequest("app||k"), Ct);

        await Assert.ThrowsAsync<ETagMismatchException>(() => Store.DeleteAsync(new StateDeleteRequest("app||k", etag), Ct));
    }

    [Fact]
    public async Task A_malformed_etag_is_invalid_where_the_store_can_tell_and_a_conflict_otherwise()
    {
        await SetAsync("app||k", "1");

        if (MalformedETag is { } bad)
        {
            await Assert.ThrowsAsync<InvalidETagException>(() => SetAsync("app||k", "2", etag: bad));
            await Assert.ThrowsAsync<InvalidETagException>(() => Store.DeleteAsync(new StateDeleteRequest("app||k", bad), Ct));
            await Assert.ThrowsAsync<InvalidETagException>(() => Store.ExecuteTransactionAsync(
            [
                new UpsertOperation(new StateSetRequest("app||other", Bytes("1"))),
                new UpsertOperation(new StateSetRequest("app||k", Bytes("2"), bad)),
            ], Ct));
        }
        else
        {
            // Opaque ETags: an unknown one is simply not the current one.
            await Assert.ThrowsAsync<ETagMismatchException>(() => SetAsync("app||k", "2", etag: "not-an-etag"));
            await Assert.ThrowsAsync<ETagMismatchException>(() => Store.DeleteAsync(new StateDeleteRequest("app||k", "not-an-etag"), Ct));
        }

        Assert.Equal("1", Encoding.UTF8.GetString((await GetRequiredAsync("app||k")).Value.Span));
        Assert.Null(await Store.GetAsync("app||other", Ct));
    }

    [Fact]
    public async Task An_unknown_etag_conflicts()
    {
        await SetAsync("app||k", "1");
        var etag = (await GetRequiredAsync("app||k")).ETag;
        await SetAsync("app||k", "2");
        await SetAsync("app||k", "3");

        // A well-formed ETag that was valid once but no longer is.
        await Assert.ThrowsAsync<ETagMismatchException>(() => SetAsync("app||k", "4", etag: etag));
    }

    [Fact]
    public async Task An_item_with_a_ttl_expires()
    {
        await SetAsync("app||k", "1", ttl: TimeSpan.FromSeconds(1));
        var entry = await GetRequiredAsync("app||k");
        Assert.NotNull(entry.ExpiresAt);
        Assert.InRange(entry.ExpiresAt!.Value - Time.GetUtcNow(), TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(1.5));

        Time.Advance(TimeSpan.FromSeconds(2));

        Assert.Null(await Store.GetAsync("app||k", Ct));
        // An expired item behaves as missing: first-write succeeds, its old etag no longer matches.
        await Assert.ThrowsAsync<ETagMismatchException>(() => SetAsync("app||k", "x", etag: entry.ETag));
        await SetAsync("app||k", "2", firstWrite: true);
        Assert.Equal("2", Encoding.UTF8.GetString((await GetRequiredAsync("app||k")).Value.Span));
    }

    [Fact]
    public async Task A_write_without_ttl_clears_an_earlier_ttl()
    {
        await SetAsync("app||k", "1", ttl: TimeSpan.FromSeconds(1));
        await SetAsync("app||k", "2");

        Time.Advance(TimeSpan.FromSeconds(5));

        var entry = await GetRequiredAsync("app||k");
        Assert.Null(entry.ExpiresAt);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public async Task A_ttl_of_zero_or_less_means_no_expiry(int seconds)
    {
        await SetAsync("app||k", "1", ttl: TimeSpan.FromSeconds(seconds));
        Time.Advance(TimeSpan.FromDays(1));

        Assert.Null((await GetRequiredAsync("app||k")).ExpiresAt);
    }

    [Fact]
    public async Task Ttl_applies_inside_transactions()
    {
        await Store.ExecuteTransactionAsync([new UpsertOperation(new StateSetRequest("app||k", Bytes("1"), Ttl: TimeSpan.FromSeconds(1)))], Ct);
        Assert.NotNull((await GetRequiredAsync("app||k")).ExpiresAt);

        Time.Advance(TimeSpan.FromSeconds(2));

        Assert.Null(await Store.GetAsync("app||k", Ct));
    }

    [Fact]
    public async Task A_transaction_applies_all_operations()
    {
        await SetAsync("app||gone", "x");
        await SetAsync("app||b", "old");
        var bEtag = (await GetRequiredAsync("app||b")).ETag;

        await Store.ExecuteTransactionAsync(
        [
            new UpsertOperation(new StateSetRequest("app||a", Bytes("1"))),
            new UpsertOperation(new StateSetRequest("app||b", Bytes("2"), bEtag)),
            new DeleteOperation(new StateDeleteRequest("app||gone")),
        ], Ct);

        Assert.Equal("1", Encoding.UTF8.GetString((await GetRequiredAsync("app||a")).Value.Span));
        Assert.Equal("2", Encoding.UTF8.GetString((await GetRequiredAsync("app||b")).Value.Span));
        Assert.Null(await Store.GetAsync("app||gone", Ct));
    }

    [Fact]
    public async Task A_transaction_with_a_stale_etag_applies_nothing()
    {
        await SetAsync("app||b", "old");
        var stale = (await GetRequiredAsync("app||b")).ETag;
        await SetAsync("app||b", "newer");
        await SetAsync("app||c", "keep");

        await Assert.ThrowsAsync<ETagMismatchException>(() => Store.ExecuteTransactionAsync(
        [
            new UpsertOperation(new StateSetRequest("app||a", Bytes("1"))),
            new DeleteOperation(new StateDeleteRequest("app||c")),
            new UpsertOperation(new StateSetRequest("app||b", Bytes("2"), stale)),
        ], Ct));

        Assert.Null(await Store.GetAsync("app||a", Ct));
        Assert.NotNull(await Store.GetAsync("app||c", Ct));
        Assert.Equal("newer", Encoding.UTF8.GetString((await GetRequiredAsync("app||b")).Value.Span));
    }

    [Fact]
    public async Task Later_operations_in_a_transaction_see_earlier_ones()
    {
        await Store.ExecuteTransactionAsync(
        [
            new UpsertOperation(new StateSetRequest("app||a", Bytes("1"))),
            new DeleteOperation(new StateDeleteRequest("app||a")),
            new UpsertOperation(new StateSetRequest("app||a", Bytes("2"), FirstWrite: true)),
        ], Ct);

        Assert.Equal("2", Encoding.UTF8.GetString((await GetRequiredAsync("app||a")).Value.Span));
    }

    [Fact]
    public async Task Concurrent_first_writes_to_one_key_have_exactly_one_winner()
    {
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(async () =>
        {
            try
            {
                await SetAsync("app||race", i.ToString(System.Globalization.CultureInfo.InvariantCulture), firstWrite: true);
                return true;
            }
            catch (ETagMismatchException)
            {
                return false;
            }
        })));

        Assert.Equal(1, outcomes.Count(won => won));
    }

    [Fact]
    public async Task Concurrent_writes_with_the_same_etag_have_exactly_one_winner()
    {
        await SetAsync("app||race", "0");
        var etag = (await GetRequiredAsync("app||race")).ETag;

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(async () =>
        {
            try
            {
                await SetAsync("app||race", i.ToString(System.Globalization.CultureInfo.InvariantCulture), etag: etag);
                return true;
            }
            catch (ETagMismatchException)
            {
                return false;
            }
        })));

        Assert.Equal(1, outcomes.Count(won => won));
    }

    [Fact]
    public async Task Concurrent_read_modify_write_with_etag_retry_loses_no_update()
    {
        await SetAsync("app||counter", "0");

        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                var entry = await GetRequiredAsync("app||counter");
                var next = int.Parse(Encoding.UTF8.GetString(entry.Value.Span), System.Globalization.CultureInfo.InvariantCulture) + 1;
                try
                {
                    await SetAsync("app||counter", next.ToString(System.Globalization.CultureInfo.InvariantCulture), etag: entry.ETag);
                    return;
                }
                catch (ETagMismatchException)
                {
                    // someone else won this generation; read again
                }
            }
        })));

        Assert.Equal("20", Encoding.UTF8.GetString((await GetRequiredAsync("app||counter")).Value.Span));
    }

    [Fact]
    public async Task Concurrent_transactions_stay_atomic()
    {
        // Each transaction moves one unit from a to b; readers must never see the sum drift.
        await SetAsync("app||a", "100");
        await SetAsync("app||b", "0");

        await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                var a = await GetRequiredAsync("app||a");
                var b = await GetRequiredAsync("app||b");
                try
                {
                    await Store.ExecuteTransactionAsync(
                    [
                        new UpsertOperation(new StateSetRequest("app||a", Bytes((Number(a) - 1).ToString(System.Globalization.CultureInfo.InvariantCulture)), a.ETag)),
                        new UpsertOperation(new StateSetRequest("app||b", Bytes((Number(b) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)), b.ETag)),
                    ], Ct);
                    return;
                }
                catch (ETagMismatchException)
                {
                }
            }
        })));

        Assert.Equal(90, Number(await GetRequiredAsync("app||a")));
        Assert.Equal(10, Number(await GetRequiredAsync("app||b")));
    }

    protected static int Number(StateEntry entry) =>
        int.Parse(Encoding.UTF8.GetString(entry.Value.Span), System.Globalization.CultureInfo.InvariantCulture);
}
