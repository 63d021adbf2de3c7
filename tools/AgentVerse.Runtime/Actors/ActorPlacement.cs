using System.Collections.Immutable;
using System.Text;

namespace AgentVerse.Runtime.Actors;

/// <summary>
/// The run's placement table: actor type → the sidecars whose apps host it. daprd gets this from the
/// Placement service; here every sidecar lives in one process, so a shared map is enough. When several
/// apps host one type, an actor id goes to the host with the highest rendezvous hash of (app id, actor id):
/// deterministic, and adding or removing a host only moves the ids that host gains or loses, the property
/// placement's consistent-hash ring gives.
/// </summary>
internal sealed class ActorPlacement
{
    private readonly object _gate = new();
    private ImmutableDictionary<string, ImmutableArray<ActorHost>> _hostsByType = ImmutableDictionary.Create<string, ImmutableArray<ActorHost>>(StringComparer.Ordinal);

    public void Register(ActorHost host)
    {
        lock (_gate)
        {
            foreach (var type in host.Config.Types)
            {
                var hosts = _hostsByType.GetValueOrDefault(type, []);
                _hostsByType = _hostsByType.SetItem(type, [.. hosts.Add(host).OrderBy(h => h.AppId, StringComparer.Ordinal)]);
            }
        }
    }

    public void Unregister(ActorHost host)
    {
        lock (_gate)
        {
            foreach (var type in host.Config.Types)
            {
                var hosts = _hostsByType.GetValueOrDefault(type, []).Remove(host);
                _hostsByType = hosts.IsEmpty ? _hostsByType.Remove(type) : _hostsByType.SetItem(type, hosts);
            }
        }
    }

    public IEnumerable<string> HostedTypes => _hostsByType.Keys;

    /// <summary>The host that owns the actor, or null when no app hosts the type.</summary>
    public ActorHost? Lookup(string actorType, string actorId)
    {
        if (!_hostsByType.TryGetValue(actorType, out var hosts) || hosts.IsEmpty)
        {
            return null;
        }
        if (hosts.Length == 1)
        {
            return hosts[0];
        }
        ActorHost best = hosts[0];
        ulong bestScore = 0;
        foreach (var host in hosts)
        {
            var score = Fnv1a64(host.AppId + "\u0000" + actorId);
            if (score >= bestScore)
            {
                best = host;
                bestScore = score;
            }
        }
        return best;
    }

    // A stable hash (string.GetHashCode is randomised per process, which would move actors on restart).
    private static ulong Fnv1a64(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }
        // FNV's low bits mix poorly for near-identical inputs; a final avalanche (splitmix64) fixes that.
        hash ^= hash >> 30;
        hash *= 0xbf58476d1ce4e5b9UL;
        hash ^= hash >> 27;
        hash *= 0x94d049bb133111ebUL;
        return hash ^ (hash >> 31);
    }
}
