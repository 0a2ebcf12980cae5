using System.Net.Sockets;

namespace Dynamite.IntegrationTests.Infrastructure;

/// <summary>A real redis-server (Debian's) on a loopback port of its own, nothing persisted: the reference.</summary>
internal sealed class RedisServer : ManagedProcess
{
    private RedisServer(int port) => Port = port;

    public int Port { get; }

    public static async Task<RedisServer> StartAsync()
    {
        var server = new RedisServer(FreePort.Next());
        server.StartProcess("redis-server", ["--port", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"], Path.GetTempPath());
        DateTime deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", server.Port);
                return server;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        throw new TimeoutException("redis-server did not start:\n" + server.Output);
    }

    public RawRespClient Connect() => RawRespClient.Connect(Port);
}
