using System.Net;
using System.Net.Sockets;
using AgentVerse.Runtime;

namespace AgentVerse.Cli.Launch;

/// <summary>Checks and picks TCP ports the way dapr does: a port is free when a listener can bind it.</summary>
internal static class Ports
{
    /// <summary>True when nothing listens on <paramref name="port"/> on any or a loopback address.</summary>
    /// <remarks>The sidecars listen on <c>localhost</c>, IPv4 and IPv6, so a listener on <c>[::1]</c> counts too.</remarks>
    public static bool IsFree(int port) =>
        CanBind(IPAddress.Any, port)
        && CanBind(IPAddress.Loopback, port)
        && (!Socket.OSSupportsIPv6 || CanBind(IPAddress.IPv6Loopback, port));

    /// <summary>A port the OS considers free now, not in <paramref name="taken"/> (ports promised to other apps).</summary>
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

    private static bool CanBind(IPAddress address, int port)
    {
        try
        {
            using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            // Without SO_REUSEADDR a port in TIME_WAIT after a previous run would look taken on Linux,
            // while the runtime's Kestrel (which sets it) can bind it fine.
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(new IPEndPoint(address, port));
            socket.Listen(1);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
