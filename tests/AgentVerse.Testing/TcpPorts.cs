using System.Net;
using System.Net.Sockets;

namespace AgentVerse.Testing;

/// <summary>Loopback ports for servers a test starts.</summary>
public static class TcpPorts
{
    /// <summary>A port nothing listens on right now; another process may take it before the caller binds it.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
