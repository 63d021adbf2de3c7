using System.Text.Json;
using AgentVerse.Runtime.Sidecar;
using AgentVerse.Runtime.State;

namespace AgentVerse.Runtime.Workflow;

/// <summary>
/// Workflow state in the app's actor state store, laid out like daprd's workflow actor keys:
/// <c>{appId}||dapr.internal.{namespace}.{appId}.workflow||{instanceId}||state</c> holds one
/// <see cref="InstanceRecord"/>, and <c>…workflow||active-instances</c> lists the instances that are
/// not finished, so a restarted runtime knows which ones to resume (a state store cannot list keys).
/// Every change is one transaction guarded by ETags: a crash leaves either the old step or the new one.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "SemaphoreSlim only needs disposal once its wait handle is used; it lives as long as the sidecar.")]
internal sealed class WorkflowStore
{
    private readonly StateStoreBinding _binding;
    private readonly string _keyPrefix;
    private readonly SemaphoreSlim _indexGate = new(1, 1);
    private HashSet<string> _active = new(StringComparer.Ordinal);
    private string? _indexETag;

    public WorkflowStore(StateStoreBinding binding, string appId)
    {
        _binding = binding;
        var ns = Environment.GetEnvironmentVariable("NAMESPACE") is { Length: > 0 } n ? n : "default";
        // Actor keys are always "appId||actorType||actorId||key" in daprd, whatever the component's keyPrefix says.
        _keyPrefix = $"{appId}||dapr.internal.{ns}.{appId}.workflow";
    }

    public string StoreName => _binding.Name;

    private string StateKey(string instanceId) => $"{_keyPrefix}||{instanceId}||state";

    private string IndexKey => $"{_keyPrefix}||active-instances";

    /// <summary>Loads the list of unfinished instances; call once before any write.</summary>
    public async Task<IReadOnlyCollection<string>> LoadActiveAsync(CancellationToken cancellationToken)
    {
        var entry = await _binding.Store.GetAsync(IndexKey, cancellationToken);
        _indexETag = entry?.ETag;
        _active = entry is null
            ? new HashSet<string>(StringComparer.Ordinal)
            : new HashSet<string>(JsonSerializer.Deserialize<string[]>(entry.Value.Span) ?? [], StringComparer.Ordinal);
        return [.. _active];
    }

    public async Task<(InstanceRecord? Record, string? ETag)> LoadAsync(string instanceId, CancellationToken cancellationToken)
    {
        var entry = await _binding.Store.GetAsync(StateKey(instanceId), cancellationToken);
        return entry is null ? (null, null) : (InstanceRecord.Deserialize(entry.Value), entry.ETag);
    }

    /// <summary>
    /// Commits <paramref name="record"/> over the version read with <paramref name="etag"/> (null = must not exist yet),
    /// updating the active-instances list in the same transaction when the instance starts or finishes.
    /// Returns the new ETag.
    /// </summary>
    /// <exception cref="ETagMismatchException">someone else changed the instance meanwhile</exception>
    public async Task<string> SaveAsync(InstanceRecord record, string? etag, CancellationToken cancellationToken)
    {
        var key = StateKey(record.InstanceId);
        var upsert = new UpsertOperation(new StateSetRequest(key, record.Serialize(), etag, FirstWrite: etag is null));
        var active = !record.IsTerminal;
        if (_active.Contains(record.InstanceId) == active)
        {
            await _binding.Store.ExecuteTransactionAsync([upsert], cancellationToken);
        }
        else
        {
            await _indexGate.WaitAsync(cancellationToken);
            try
            {
                var next = new HashSet<string>(_active, StringComparer.Ordinal);
                if (active)
                {
                    next.Add(record.InstanceId);
                }
                else
                {
                    next.Remove(record.InstanceId);
                }
                var index = new UpsertOperation(new StateSetRequest(IndexKey, JsonSerializer.SerializeToUtf8Bytes(next.ToArray()), _indexETag, FirstWrite: _indexETag is null));
                await _binding.Store.ExecuteTransactionAsync([upsert, index], cancellationToken);
                _active = next;
                // Stores do not return the new ETag of a write, so read it back (cheap next to the write itself).
                _indexETag = (await _binding.Store.GetAsync(IndexKey, cancellationToken))?.ETag;
            }
            finally
            {
                _indexGate.Release();
            }
        }
        var saved = await _binding.Store.GetAsync(key, cancellationToken);
        return saved?.ETag ?? throw new InvalidOperationException($"workflow state of '{record.InstanceId}' vanished right after it was saved");
    }

    /// <summary>Deletes a finished instance (purge).</summary>
    public Task DeleteAsync(string instanceId, string etag, CancellationToken cancellationToken) =>
        _binding.Store.ExecuteTransactionAsync([new DeleteOperation(new StateDeleteRequest(StateKey(instanceId), etag))], cancellationToken);
}
