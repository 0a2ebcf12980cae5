using System.Net;
using Microsoft.Extensions.Logging;

namespace Dynamite.Cluster.Transport;

/// <summary>Clients over TCP (<see cref="PeerClient"/>): the server's peer connector.</summary>
public sealed class TcpPeerConnector(PeerTransportOptions options, TimeProvider clock, ILoggerFactory loggers) : IPeerConnector
{
    public IPeerClient Connect(string address) => new PeerClient(ParseEndPoint(address), options, clock, loggers.CreateLogger<PeerClient>());

    /// <summary>An IP endpoint, or a host name and port resolved on connect.</summary>
    public static EndPoint ParseEndPoint(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (IPEndPoint.TryParse(address, out IPEndPoint? ip) && ip.Port != 0)
        {
            return ip;
        }

        int colon = address.LastIndexOf(':');
        return colon > 0 && int.TryParse(address.AsSpan(colon + 1), out int port)
            ? new DnsEndPoint(address[..colon], port)
            : throw new FormatException($"'{address}' is not HOST:PORT.");
    }
}
