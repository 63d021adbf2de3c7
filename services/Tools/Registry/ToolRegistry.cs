using AgentVerse.Dapr;
using Microsoft.Extensions.Options;

namespace AgentVerse.Tools.Registry;

/// <summary>
/// Custom tools in the Dapr state store: one key per tool (<c>tool:{id}</c>) and an index of every id
/// (<c>tools-index</c>), both changed in one transaction under the index's ETag, so concurrent registrations
/// never lose an entry.
/// </summary>
public sealed class ToolRegistry(DaprClient dapr, IOptions<ToolsOptions> options)
{
    private const string IndexKey = "tools-index";
    private const int Attempts = 10;

    private string Store => options.Value.StateStore;

    public static string Key(string id) => $"tool:{id}";

    public async Task<(ToolDefinition? Tool, string ETag)> GetAsync(string id, CancellationToken cancellationToken) =>
        await dapr.GetStateAndETagAsync<ToolDefinition>(Store, Key(id), cancellationToken: cancellationToken);

    public async Task<IReadOnlyList<ToolDefinition>> ListAsync(CancellationToken cancellationToken)
    {
        var ids = await dapr.GetStateAsync<List<string>>(Store, IndexKey, cancellationToken: cancellationToken) ?? [];
        if (ids.Count == 0)
        {
            return [];
        }

        var items = await dapr.GetBulkStateAsync<ToolDefinition>(Store, [.. ids.Select(Key)], cancellationToken: cancellationToken);
        return [.. items.Where(i => i.Value is not null).Select(i => i.Value!)];
    }

    public async Task CreateAsync(ToolDefinition tool, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tool);
        await ChangeIndexAsync(ids => [.. ids, tool.Id], StateTransactionRequest.Upsert(Key(tool.Id), tool, options: FirstWrite), cancellationToken);
    }

    /// <summary>Saves <paramref name="tool"/> if it is unchanged since read with <paramref name="etag"/>.</summary>
    public Task<bool> TryUpdateAsync(ToolDefinition tool, string etag, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tool);
        return dapr.TrySaveStateAsync(Store, Key(tool.Id), tool, etag, cancellationToken: cancellationToken);
    }

    public Task DeleteAsync(string id, CancellationToken cancellationToken) =>
        ChangeIndexAsync(ids => [.. ids.Where(i => i != id)], StateTransactionRequest.Delete(Key(id)), cancellationToken);

    private static readonly StateOptions FirstWrite = new() { Concurrency = ConcurrencyMode.FirstWrite };

    private async Task ChangeIndexAsync(Func<List<string>, List<string>> change, StateTransactionRequest operation, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var (ids, etag) = await dapr.GetStateAndETagAsync<List<string>>(Store, IndexKey, cancellationToken: cancellationToken);
            var index = StateTransactionRequest.Upsert(IndexKey, change(ids ?? []), etag.Length == 0 ? null : etag, options: FirstWrite);
            try
            {
                await dapr.ExecuteStateTransactionAsync(Store, [operation, index], cancellationToken: cancellationToken);
                return;
            }
            catch (DaprApiException) when (attempt < Attempts)
            {
                // Another writer changed the index first: read it again.
                await Task.Delay(Random.Shared.Next(5, 20 * attempt), cancellationToken);
            }
        }
    }
}
