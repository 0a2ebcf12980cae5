using System.Net.Sockets;

namespace Dynamite.IntegrationTests.Infrastructure;

/// <summary>
/// A real `dynamite start` process on loopback ports of its own, with its own data directory
/// (deleted on dispose unless the test keeps it for a restart).
/// </summary>
internal sealed class DynamiteNode : ManagedProcess
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly bool _ownsDataDirectory;

    private DynamiteNode(int port, int httpPort, string dataDirectory, bool ownsDataDirectory)
    {
        Port = port;
        HttpPort = httpPort;
        DataDirectory = dataDirectory;
        _ownsDataDirectory = ownsDataDirectory;
    }

    public int Port { get; }

    public int HttpPort { get; }

    public string DataDirectory { get; }

    /// <summary>Starts a node and waits until it answers PING (or requires AUTH).</summary>
    /// <param name="engine">memory, rocksdb, sqlite or lmdb.</param>
    /// <param name="extraArguments">More `dynamite start` flags.</param>
    /// <param name="dataDirectory">Reuse a directory (restart after a crash); null makes a fresh one owned by this node.</param>
    /// <param name="port">Reuse a port (restart); 0 picks a free one.</param>
    /// <param name="nodeId">The node's id.</param>
    /// <param name="httpPort">Reuse an admin port (restart); 0 picks a free one.</param>
    public static async Task<DynamiteNode> StartAsync(string engine = "memory", IEnumerable<string>? extraArguments = null, string? dataDirectory = null, int port = 0, string nodeId = "test", int httpPort = 0)
    {
        bool owns = dataDirectory is null;
        dataDirectory ??= Directory.CreateTempSubdirectory("dynamite-test-").FullName;
        var node = new DynamiteNode(port == 0 ? FreePort.Next() : port, httpPort == 0 ? FreePort.Next() : httpPort, dataDirectory, owns);
        var arguments = new List<string>
        {
            RepositoryPaths.DynamiteDll, "start",
            "--node-id", nodeId,
            "--listen", $"127.0.0.1:{node.Port}",
            "--http", $"127.0.0.1:{node.HttpPort}",
            "--data-dir", dataDirectory,
            "--engine", engine,
        };
        arguments.AddRange(extraArguments ?? []);
        node.StartProcess("dotnet", arguments, RepositoryPaths.Root);
        await node.WaitUntilServingAsync();
        return node;
    }

    private async Task WaitUntilServingAsync()
    {
        DateTime deadline = DateTime.UtcNow + StartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (HasExited)
            {
                throw new InvalidOperationException($"dynamite exited with {ExitCode} before serving:\n{Output}");
            }

            try
            {
                // The RESP port and the admin port: Kestrel binds them one after the other (the admin port may come
                // second, later still over HTTPS), and a test may use either at once.
                using (var resp = new TcpClient())
                {
                    await resp.ConnectAsync("127.0.0.1", Port);
                }

                using (var admin = new TcpClient())
                {
                    await admin.ConnectAsync("127.0.0.1", HttpPort);
                }

                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        throw new TimeoutException($"dynamite did not listen on {Port} and {HttpPort} within {StartTimeout}:\n{Output}");
    }

    public RawRespClient Connect() => RawRespClient.Connect(Port);

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_ownsDataDirectory && Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }
}
