using System.Globalization;
using System.Net;

namespace Dynamite.Server.Configuration;

/// <summary>Parses HOST:PORT listen addresses: an IPv4 or bracketed IPv6 address, or localhost.</summary>
public static class EndpointParser
{
    public static IPEndPoint Parse(string text, string setting)
    {
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 0 or > 65535)
        {
            throw new ConfigurationException($"{setting} must be HOST:PORT, not '{text}'.");
        }

        string host = text[..colon].Trim('[', ']');
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return new IPEndPoint(IPAddress.Loopback, port);
        }

        if (!IPAddress.TryParse(host, out IPAddress? address))
        {
            throw new ConfigurationException($"{setting}: '{host}' is not an IP address (use an address such as 127.0.0.1, or localhost).");
        }

        return new IPEndPoint(address, port);
    }
}
