using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace AgentVerse.Tools.Execution;

/// <summary>
/// Which addresses outbound tool calls may connect to: anything public, never loopback, private (RFC 1918, fc00::/7),
/// link-local (cloud metadata 169.254.169.254 included), CGNAT, unspecified, multicast or reserved ranges — unless
/// configuration allows a network or a single endpoint.
/// </summary>
public sealed class AddressPolicy
{
    private static readonly IPNetwork[] Refused =
    [
        IPNetwork.Parse("0.0.0.0/8"),        // unspecified / "this network"
        IPNetwork.Parse("10.0.0.0/8"),
        IPNetwork.Parse("100.64.0.0/10"),    // CGNAT
        IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"),   // link-local, cloud metadata
        IPNetwork.Parse("172.16.0.0/12"),
        IPNetwork.Parse("192.0.0.0/24"),
        IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("198.18.0.0/15"),
        IPNetwork.Parse("224.0.0.0/4"),      // multicast
        IPNetwork.Parse("240.0.0.0/4"),      // reserved, broadcast
        IPNetwork.Parse("::/128"),
        IPNetwork.Parse("::1/128"),
        IPNetwork.Parse("fc00::/7"),
        IPNetwork.Parse("fe80::/10"),
        IPNetwork.Parse("ff00::/8"),
        IPNetwork.Parse("64:ff9b::/96"),     // NAT64 could reach IPv4 private space
        IPNetwork.Parse("2002::/16"),        // 6to4 likewise
    ];

    private readonly IPNetwork[] _allowedNetworks;
    private readonly IPEndPoint[] _allowedEndpoints;

    public AddressPolicy(IOptions<ToolsOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _allowedNetworks = [.. options.Value.Http.AllowedNetworks.Select(IPNetwork.Parse)];
        _allowedEndpoints = [.. options.Value.Http.AllowedEndpoints.Select(IPEndPoint.Parse)];
    }

    /// <summary>
    /// Why <paramref name="url"/> cannot be a tool's or MCP server's endpoint, or <see langword="null"/> when it is an
    /// http(s) URL without credentials whose host resolves to allowed addresses only. A registration-time courtesy:
    /// DNS may change, so every connection is checked again.
    /// </summary>
    public async Task<string?> RefusalAsync(Uri url, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!url.IsAbsoluteUri || url.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(url.UserInfo))
        {
            return "The url must be an absolute http or https URL without credentials.";
        }

        try
        {
            var addresses = await ResolveAsync(url.IdnHost, cancellationToken);
            return addresses.Length > 0 && addresses.All(a => IsAllowed(a, url.Port))
                ? null
                : $"Connections to {url.Host}:{url.Port} are not allowed.";
        }
        catch (SocketException)
        {
            return $"The host {url.Host} does not resolve.";
        }
    }

    /// <summary>
    /// A <see cref="SocketsHttpHandler.ConnectCallback"/> that resolves the host itself and connects only to the
    /// addresses this policy allows (no second resolution to race with), so a name resolving to 127.0.0.1 is refused
    /// as the literal would be, on every connection, redirects included.
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var endpoint = context.DnsEndPoint;
        var allowed = (await ResolveAsync(endpoint.Host, cancellationToken)).Where(a => IsAllowed(a, endpoint.Port)).ToArray();
        if (allowed.Length == 0)
        {
            throw new DestinationRefusedException(
                $"Refused to connect to {endpoint.Host}:{endpoint.Port}: it resolves to a loopback, private, link-local or otherwise internal address.");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, endpoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Whether a connection to <paramref name="address"/>:<paramref name="port"/> is allowed.</summary>
    public bool IsAllowed(IPAddress address, int port)
    {
        ArgumentNullException.ThrowIfNull(address);
        // ::ffff:127.0.0.1 is 127.0.0.1.
        var normalized = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        if (_allowedEndpoints.Any(e => e.Port == port && e.Address.Equals(normalized)) || _allowedNetworks.Any(n => n.Contains(normalized)))
        {
            return true;
        }

        if (normalized.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            return false;
        }

        return !Refused.Any(n => n.BaseAddress.AddressFamily == normalized.AddressFamily && n.Contains(normalized));
    }

    /// <summary>An IP literal (bracketed or not) as itself, else the name's addresses from DNS.</summary>
    private static async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) =>
        IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
}

/// <summary>An outbound call was refused by <see cref="AddressPolicy"/>.</summary>
public sealed class DestinationRefusedException(string message) : Exception(message);
