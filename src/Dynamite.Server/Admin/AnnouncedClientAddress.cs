using System.Globalization;
using System.Net;

namespace Dynamite.Server.Admin;

/// <summary>
/// Where clients reach a node, as it announces itself in the gossiped cluster state and CLUSTER SLOTS, SHARDS and NODES
/// pass on: <c>HOST:PORT</c>, followed by <c> tls=PORT</c> when it has a TLS port (PORT is then the TLS port too when
/// it has no plain one). One string, so the cluster state's member record needs no field per port.
/// </summary>
public static class AnnouncedClientAddress
{
    private const string TlsMarker = " tls=";

    public static string Format(IPEndPoint endpoint, int tlsPort)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return tlsPort > 0 ? string.Create(CultureInfo.InvariantCulture, $"{endpoint}{TlsMarker}{tlsPort}") : endpoint.ToString();
    }

    /// <summary>The host, the port and the TLS port (0: none) of an announcement; null when it names no address.</summary>
    public static (string Host, int Port, int TlsPort)? Parse(string announced)
    {
        ArgumentNullException.ThrowIfNull(announced);
        int marker = announced.IndexOf(TlsMarker, StringComparison.Ordinal);
        int tlsPort = 0;
        if (marker >= 0 && !int.TryParse(announced.AsSpan(marker + TlsMarker.Length), NumberStyles.None, CultureInfo.InvariantCulture, out tlsPort))
        {
            return null;
        }

        return IPEndPoint.TryParse(marker >= 0 ? announced[..marker] : announced, out IPEndPoint? endpoint)
            ? (endpoint.Address.ToString(), endpoint.Port, tlsPort)
            : null;
    }
}
