using AgentVerse.ServiceDefaults.Dapr;
using Dapr.Client;
using Microsoft.Extensions.Options;

namespace AgentVerse.Tools.Execution;

/// <summary>
/// A user's execution ids, kept in buckets so that recording a batch rewrites one small bucket and a counter instead
/// of the user's whole history. The head <c>tool-execution-index:{userId}</c> counts the ids ever appended; bucket
/// <c>tool-execution-index:{userId}:{n}</c> holds ids number n·<see cref="BucketSize"/> onwards, oldest first. Buckets
/// wholly older than the newest <see cref="ToolsOptions.UserIndexLimit"/> ids are deleted.
/// </summary>
public sealed class ExecutionIndex(DaprClient dapr, IOptions<ToolsOptions> options)
{
    public const int BucketSize = 100;

    private string Store => options.Value.StateStore;

    private int Limit => options.Value.UserIndexLimit;

    public static string HeadKey(string userId) => $"tool-execution-index:{userId}";

    public static string BucketKey(string userId, long bucket) => $"tool-execution-index:{userId}:{bucket}";

    /// <summary>
    /// The state operations that append <paramref name="ids"/> (oldest first) to the user's index, for the caller's
    /// transaction. The head is ETag-guarded, so a concurrent append fails the whole transaction rather than
    /// overwrite a bucket.
    /// </summary>
    public async Task<IReadOnlyList<StateTransactionRequest>> AppendAsync(string userId, IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        var (head, etag) = await dapr.GetStateAndETagAsync<IndexHead?>(Store, HeadKey(userId), cancellationToken: cancellationToken);
        var count = head?.Count ?? 0;
        var bucket = count / BucketSize;
        var current = count % BucketSize == 0
            ? []
            : await dapr.GetStateAsync<List<string>?>(Store, BucketKey(userId, bucket), cancellationToken: cancellationToken) ?? [];
        var operations = new List<StateTransactionRequest>();
        foreach (var id in ids)
        {
            if (current.Count == BucketSize)
            {
                operations.Add(StateOperations.Upsert(BucketKey(userId, bucket++), current));
                current = [];
            }

            current.Add(id);
        }

        operations.Add(StateOperations.Upsert(BucketKey(userId, bucket), current));
        var newCount = count + ids.Count;
        for (var old = OldestBucket(count); old < OldestBucket(newCount); old++)
        {
            operations.Add(StateOperations.Delete(BucketKey(userId, old)));
        }

        operations.Add(StateOperations.Upsert(HeadKey(userId), new IndexHead(newCount), etag.Length == 0 ? null : etag,
            options: StateOperations.FirstWrite));
        return operations;
    }

    /// <summary>The user's newest <see cref="ToolsOptions.UserIndexLimit"/> execution ids, newest first.</summary>
    public async Task<IReadOnlyList<string>> ReadAsync(string userId, CancellationToken cancellationToken)
    {
        var head = await dapr.GetStateAsync<IndexHead?>(Store, HeadKey(userId), cancellationToken: cancellationToken);
        if (head is not { Count: > 0 })
        {
            return [];
        }

        var newest = (head.Count - 1) / BucketSize;
        var keys = new List<string>();
        for (var bucket = newest; bucket >= OldestBucket(head.Count); bucket--)
        {
            keys.Add(BucketKey(userId, bucket));
        }

        var buckets = await dapr.GetBulkStateOrEmptyAsync<List<string>>(Store, keys, cancellationToken);
        var byKey = buckets.ToDictionary(b => b.Key, b => b.Value ?? [], StringComparer.Ordinal);
        return [.. keys.SelectMany(k => byKey.GetValueOrDefault(k, []).AsEnumerable().Reverse()).Take(Limit)];
    }

    /// <summary>The oldest bucket still holding one of the newest <see cref="Limit"/> of <paramref name="count"/> ids.</summary>
    private long OldestBucket(long count) => Math.Max(0, count - Limit) / BucketSize;

    internal sealed record IndexHead(long Count);
}
