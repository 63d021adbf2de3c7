using System.Net;
using System.Net.Sockets;

namespace AgentVerse.Runtime;

/// <summary>
/// Free loopback ports for listeners whose port must be known before they bind: a sidecar's HTTP and gRPC ports, the
/// app port a sidecar is told. A port-0 probe is a poor source: the kernel readily gives the next probe, in this
/// process or another, the port the last one just freed (155 repeats in 1,500 probes, measured), so two listeners
/// could be promised one port. Ports are instead drawn at random from 20000-31999, below the ephemeral ranges of
/// Linux (32768+), Windows and macOS (49152+) so no outgoing connection or port-0 bind holds them, probed on IPv4 and
/// IPv6 loopback (Kestrel's <c>localhost</c> binds both), and remembered (the last <see cref="Remembered"/>) so this
/// process never hands one out twice. Another process may still bind a port between the probe and its owner.
/// </summary>
public static class LoopbackPorts
{
    private const int First = 20_000;
    private const int End = 32_000;
    private const int Remembered = 4_096;
    private static readonly Lock Gate = new();
    private static readonly HashSet<int> Given = [];
    private static readonly Queue<int> GivenInOrder = new();

    /// <summary>One free loopback port, not handed out before.</summary>
    public static int Take() => Take(1)[0];

    /// <summary><paramref name="count"/> distinct free loopback ports, none handed out before.</summary>
    public static IReadOnlyList<int> Take(int count)
    {
        var ports = new List<int>(count);
        for (var attempt = 0; ports.Count < count; attempt++)
        {
            if (attempt == 10_000)
            {
                throw new InvalidOperationException($"No free loopback port in {First}-{End - 1}.");
            }

            var port = Random.Shared.Next(First, End);
            if (IsFree(port) && Remember(port))
            {
                ports.Add(port);
            }
        }

        return ports;
    }

    /// <summary>
    /// True when nothing listens on <paramref name="port"/> on any address nor on IPv4 or IPv6 loopback (sidecars and
    /// services bind <c>localhost</c>, both families). A port in TIME_WAIT counts as free, as it does for Kestrel.
    /// </summary>
    public static bool IsFree(int port) =>
        CanBind(IPAddress.Any, port)
        && CanBind(IPAddress.Loopback, port)
        && (!Socket.OSSupportsIPv6 || CanBind(IPAddress.IPv6Loopback, port, whenUnavailable: true));

    private static bool CanBind(IPAddress address, int port, bool whenUnavailable = false)
    {
        try
        {
            using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            // Without SO_REUSEADDR a port in TIME_WAIT after a previous run would look taken on Linux, while
            // Kestrel (which sets it) binds it fine.
            probe.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            probe.Bind(new IPEndPoint(address, port));
            probe.Listen(1);
            return true;
        }
        catch (SocketException e)
        {
            // A machine with IPv6 switched off has no [::1] to collide on.
            return whenUnavailable && e.SocketErrorCode == SocketError.AddressNotAvailable;
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
