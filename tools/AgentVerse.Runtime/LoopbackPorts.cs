using System.Net;
using System.Net.Sockets;

namespace AgentVerse.Runtime;

/// <summary>
/// Free loopback ports for listeners whose port must be known before they bind: a sidecar's HTTP and gRPC ports, the
/// app port a sidecar is told. A port-0 probe's port is free only at that moment, and the kernel readily hands the
/// same port to the next probe (hundreds of repeats in 1,500 probes, measured), so two listeners of one process could
/// be given one port. Ports handed out here are remembered (the last <see cref="Remembered"/>) and not handed out
/// again. Another process may still take a port between the probe and the bind.
/// </summary>
public static class LoopbackPorts
{
    private const int Remembered = 4096;
    private static readonly Lock Gate = new();
    private static readonly HashSet<int> Given = [];
    private static readonly Queue<int> GivenInOrder = new();

    /// <summary>One free loopback port, not handed out before.</summary>
    public static int Take() => Take(1)[0];

    /// <summary><paramref name="count"/> distinct free loopback ports, none handed out before.</summary>
    public static IReadOnlyList<int> Take(int count)
    {
        // Every probe stays open until the end, so the kernel cannot hand the same port to the next one.
        var probes = new List<TcpListener>();
        try
        {
            var ports = new List<int>(count);
            while (ports.Count < count)
            {
                var probe = new TcpListener(IPAddress.Loopback, 0);
                probes.Add(probe);
                probe.Start();
                var port = ((IPEndPoint)probe.LocalEndpoint).Port;
                if (Remember(port))
                {
                    ports.Add(port);
                }
            }

            return ports;
        }
        finally
        {
            foreach (var probe in probes)
            {
                probe.Stop();
                probe.Dispose();
            }
        }
    }

    private static bool Remember(int port)
    {
        lock (Gate)
        {
            if (!Given.Add(port))
            {
                return false;
            }

            GivenInOrder.Enqueue(port);
            if (GivenInOrder.Count > Remembered)
            {
                Given.Remove(GivenInOrder.Dequeue());
            }

            return true;
        }
    }
}
