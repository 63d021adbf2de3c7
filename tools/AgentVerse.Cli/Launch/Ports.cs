using AgentVerse.Runtime;

namespace AgentVerse.Cli.Launch;

/// <summary>Picks the ports a run file leaves open, the way dapr does: a port is free when a listener can bind it.</summary>
internal static class Ports
{
    /// <summary>A free port, not in <paramref name="taken"/> (ports promised to other apps), which it joins.</summary>
    public static int PickFree(ISet<int> taken)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var port = LoopbackPorts.Take();
            if (taken.Add(port))
            {
                return port;
            }
        }

        throw new InvalidOperationException("no free TCP port found");
    }
}
