using AgentVerse.ServiceDefaults.Dapr;
using Dapr;
using Dapr.Client;
using Microsoft.Extensions.Options;

namespace AgentVerse.Tools.Mcp.Client;

/// <summary>
/// Registered MCP servers in the Dapr state store: <c>mcp-server:{id}</c> and a per-owner index
/// <c>mcp-servers-owner:{ownerId}</c>, changed together in one transaction under the index's ETag.
/// </summary>
public sealed class McpServerStore(DaprClient dapr, IOptions<ToolsOptions> options)
{
    private const int Attempts = 10;

    private string Store => options.Value.StateStore;

    public static string Key(string id) => $"mcp-server:{id}";

    public static string OwnerIndexKey(string ownerId) => $"mcp-servers-owner:{ownerId}";

    public Task<McpServerRecord?> GetAsync(string id, CancellationToken cancellationToken) =>
        dapr.GetStateAsync<McpServerRecord?>(Store, Key(id), cancellationToken: cancellationToken);

    public async Task<IReadOnlyList<McpServerRecord>> ListByOwnerAsync(string ownerId, CancellationToken cancellationToken)
    {
        var ids = await dapr.GetStateAsync<List<string>?>(Store, OwnerIndexKey(ownerId), cancellationToken: cancellationToken) ?? [];
        if (ids.Count == 0)
        {
            return [];
        }

        var items = await dapr.GetBulkStateOrEmptyAsync<McpServerRecord>(Store, [.. ids.Select(Key)], cancellationToken);
        return [.. items.Where(i => i.Value is not null).Select(i => i.Value!).OrderBy(s => s.CreatedAt)];
    }

    public Task CreateAsync(McpServerRecord server, CancellationToken cancellationToken) =>
        ChangeIndexAsync(server.OwnerId, ids => [.. ids, server.Id], StateOperations.Upsert(Key(server.Id), server), cancellationToken);

    public Task SaveAsync(McpServerRecord server, CancellationToken cancellationToken) =>
        dapr.SaveStateAsync(Store, Key(server.Id), server, cancellationToken: cancellationToken);

    public Task DeleteAsync(McpServerRecord server, CancellationToken cancellationToken) =>
        ChangeIndexAsync(server.OwnerId, ids => [.. ids.Where(i => i != server.Id)], StateOperations.Delete(Key(server.Id)), cancellationToken);

    private async Task ChangeIndexAsync(string ownerId, Func<List<string>, List<string>> change, StateTransactionRequest operation, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var (ids, etag) = await dapr.GetStateAndETagAsync<List<string>?>(Store, OwnerIndexKey(ownerId), cancellationToken: cancellationToken);
            var index = StateOperations.Upsert(OwnerIndexKey(ownerId), change(ids ?? []), etag.Length == 0 ? null : etag, options: StateOperations.FirstWrite);
            try
            {
                await dapr.ExecuteStateTransactionAsync(Store, [operation, index], cancellationToken: cancellationToken);
                return;
            }
            catch (DaprException) when (attempt < Attempts)
            {
                // Another request of the same owner changed the index first: read it again.
                await Task.Delay(Random.Shared.Next(5, 20 * attempt), cancellationToken);
            }
        }
    }
}
