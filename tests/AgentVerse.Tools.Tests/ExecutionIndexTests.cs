using AgentVerse.Tools.Execution;
using Dapr;
using Microsoft.Extensions.Options;

namespace AgentVerse.Tools.Tests;

/// <summary>The bucketed per-user execution index against the runtime's state API.</summary>
[Collection(ToolsTestGroup.Name)]
public sealed class ExecutionIndexTests(ToolsFixture fixture)
{
    private const string Store = "statestore";

    private ExecutionIndex Index(int limit) => new(fixture.ToolsSidecar, Options.Create(new ToolsOptions { UserIndexLimit = limit }));

    private async Task AppendAsync(ExecutionIndex index, string userId, IEnumerable<int> numbers) =>
        await fixture.ToolsSidecar.ExecuteStateTransactionAsync(Store, await index.AppendAsync(userId, [.. numbers.Select(n => $"e{n}")], default));

    [Fact]
    public async Task Batches_across_buckets_read_back_newest_first_up_to_the_limit_and_old_buckets_are_deleted()
    {
        var userId = $"index-{Guid.NewGuid():N}";
        var index = Index(limit: 250);

        for (var batch = 0; batch < 7; batch++)
        {
            await AppendAsync(index, userId, Enumerable.Range(batch * 60, 60)); // 420 ids in all, batches straddle buckets
        }

        var ids = await index.ReadAsync(userId, default);
        var firstBucket = await fixture.ToolsSidecar.GetStateAsync<List<string>>(Store, ExecutionIndex.BucketKey(userId, 0));
        var keptBucket = await fixture.ToolsSidecar.GetStateAsync<List<string>>(Store, ExecutionIndex.BucketKey(userId, 1));

        Assert.Equal(Enumerable.Range(170, 250).Reverse().Select(n => $"e{n}"), ids);
        Assert.Null(firstBucket); // ids 0-99, all older than the newest 250
        Assert.Equal(ExecutionIndex.BucketSize, keptBucket!.Count); // ids 100-199 still hold 170-199
    }

    [Fact]
    public async Task A_user_without_executions_has_an_empty_index()
    {
        Assert.Empty(await Index(limit: 10).ReadAsync($"index-{Guid.NewGuid():N}", default));
    }

    [Fact]
    public async Task Of_two_appends_prepared_from_the_same_state_the_second_fails_and_loses_nothing_of_the_first()
    {
        var userId = $"index-{Guid.NewGuid():N}";
        var index = Index(limit: 1000);
        await AppendAsync(index, userId, [1]);

        var first = await index.AppendAsync(userId, ["e2"], default);
        var second = await index.AppendAsync(userId, ["e3"], default);
        await fixture.ToolsSidecar.ExecuteStateTransactionAsync(Store, first);
        await Assert.ThrowsAsync<DaprException>(() => fixture.ToolsSidecar.ExecuteStateTransactionAsync(Store, second));

        Assert.Equal(["e2", "e1"], await index.ReadAsync(userId, default));
    }
}
