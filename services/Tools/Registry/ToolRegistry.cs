using AgentVerse.ServiceDefaults.Dapr;
using Dapr;
using Dapr.Client;
using Microsoft.Extensions.Options;

namespace AgentVerse.Tools.Registry;

/// <summary>
/// Custom tools in the Dapr state store: one key per tool (<c>tool:{id}</c>) and indexes of ids by audience, so a
/// user's listing reads only the tools they may see: <c>tools-by-owner:{user}</c>, <c>tools-shared-with:{user}</c>,
/// <c>tools-public</c>, and <c>tools-index</c> (every tool, for admins). A tool and the indexes it enters or leaves
/// change in one transaction under the indexes' ETags, so concurrent writers never lose an entry.
/// </summary>
public sealed class ToolRegistry(DaprClient dapr, IOptions<ToolsOptions> options)
{
    private const string AllIndexKey = "tools-index";
    private const string PublicIndexKey = "tools-public";
    private const int Attempts = 10;

    private string Store => options.Value.StateStore;

    public static string Key(string id) => $"tool:{id}";

    public static string OwnerIndexKey(string userId) => $"tools-by-owner:{userId}";

    public static string SharedIndexKey(string userId) => $"tools-shared-with:{userId}";

    public async Task<(ToolDefinition? Tool, string ETag)> GetAsync(string id, CancellationToken cancellationToken) =>
        await dapr.GetStateAndETagAsync<ToolDefinition?>(Store, Key(id), cancellationToken: cancellationToken);

    /// <summary>The tools <paramref name="userId"/> may see (every tool for an admin), oldest first.</summary>
    public async Task<IReadOnlyList<ToolDefinition>> ListVisibleAsync(string userId, bool isAdmin, CancellationToken cancellationToken)
    {
        string[] indexes = isAdmin ? [AllIndexKey] : [OwnerIndexKey(userId), SharedIndexKey(userId), PublicIndexKey];
        var lists = await dapr.GetBulkStateOrEmptyAsync<List<string>>(Store, indexes, cancellationToken);
        var ids = lists.SelectMany(l => l.Value ?? []).Distinct(StringComparer.Ordinal).ToList();
        // Checked again: an index may briefly list a tool whose audience a concurrent change narrowed.
        var tools = await LoadAsync(ids, cancellationToken);
        return [.. tools.Where(t => t.CanRead(userId, isAdmin)).OrderBy(t => t.CreatedAt)];
    }

    /// <summary>How many tools <paramref name="userId"/> owns.</summary>
    public async Task<int> CountOwnedAsync(string userId, CancellationToken cancellationToken) =>
        (await dapr.GetStateAsync<List<string>?>(Store, OwnerIndexKey(userId), cancellationToken: cancellationToken))?.Count ?? 0;

    public Task CreateAsync(ToolDefinition tool, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tool);
        return WriteAsync(before: null, tool, StateOperations.Upsert(Key(tool.Id), tool, options: StateOperations.FirstWrite), etag: null, cancellationToken);
    }

    /// <summary>Replaces <paramref name="before"/> (read with <paramref name="etag"/>) by <paramref name="after"/>; false when the tool changed meanwhile.</summary>
    public Task<bool> TryUpdateAsync(ToolDefinition before, ToolDefinition after, string etag, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(after);
        return WriteAsync(before, after, StateOperations.Upsert(Key(after.Id), after, etag), etag, cancellationToken);
    }

    public Task DeleteAsync(ToolDefinition tool, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tool);
        return WriteAsync(tool, after: null, StateOperations.Delete(Key(tool.Id)), etag: null, cancellationToken);
    }

    private async Task<IReadOnlyList<ToolDefinition>> LoadAsync(List<string> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return [];
        }

        var items = await dapr.GetBulkStateOrEmptyAsync<ToolDefinition>(Store, [.. ids.Select(Key)], cancellationToken);
        return [.. items.Where(i => i.Value is not null).Select(i => i.Value!)];
    }

    /// <summary>The indexes that list <paramref name="tool"/>.</summary>
    private static HashSet<string> IndexesOf(ToolDefinition? tool)
    {
        if (tool is null)
        {
            return [];
        }

        HashSet<string> keys = [AllIndexKey, OwnerIndexKey(tool.OwnerId)];
        if (tool.Visibility == ToolVisibility.Public)
        {
            keys.Add(PublicIndexKey);
        }
        else if (tool.Visibility == ToolVisibility.Shared)
        {
            keys.UnionWith(tool.SharedWith.Select(SharedIndexKey));
        }

        return keys;
    }

    /// <summary>
    /// Writes <paramref name="toolOperation"/> together with the indexes the tool enters or leaves. A conflict on an
    /// index is read again and retried; with <paramref name="etag"/>, a conflict on the tool itself is a false.
    /// </summary>
    private async Task<bool> WriteAsync(ToolDefinition? before, ToolDefinition? after, StateTransactionRequest toolOperation, string? etag, CancellationToken cancellationToken)
    {
        var id = (after ?? before)!.Id;
        var (was, now) = (IndexesOf(before), IndexesOf(after));
        var changed = was.Except(now).Concat(now.Except(was)).Order(StringComparer.Ordinal).ToList();
        for (var attempt = 1; ; attempt++)
        {
            List<StateTransactionRequest> operations = [toolOperation];
            foreach (var key in changed)
            {
                var (ids, indexETag) = await dapr.GetStateAndETagAsync<List<string>?>(Store, key, cancellationToken: cancellationToken);
                List<string> updated = now.Contains(key) ? [.. (ids ?? []).Where(i => i != id), id] : [.. (ids ?? []).Where(i => i != id)];
                operations.Add(StateOperations.Upsert(key, updated, indexETag.Length == 0 ? null : indexETag, options: StateOperations.FirstWrite));
            }

            try
            {
                await dapr.ExecuteStateTransactionAsync(Store, operations, cancellationToken: cancellationToken);
                return true;
            }
            catch (DaprException) when (attempt < Attempts)
            {
                if (etag is not null && (await GetAsync(id, cancellationToken)).ETag != etag)
                {
                    return false;
                }

                // Another writer changed an index first: read it again.
                await Task.Delay(Random.Shared.Next(5, 20 * attempt), cancellationToken);
            }
        }
    }
}
