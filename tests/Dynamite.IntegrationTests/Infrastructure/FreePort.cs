using System.Net;
using System.Net.Sockets;

namespace Dynamite.IntegrationTests.Infrastructure;

/// <summary>Loopback ports the OS reports free; tests bind only to 127.0.0.1.</summary>
internal static class FreePort
{
    private static readonly HashSet<int> Handed = [];

    public static int Next()
    {
        lock (Handed)
        {
            while (true)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                int port = ((IPEndPoint)listener.LocalEndpoint).Port;
                listener.Stop();
                if (Handed.Add(port))
                {
                    return port;
                }
            }
        }
    }
}
