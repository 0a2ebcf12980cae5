using System.Net;
using System.Net.Sockets;
using Dynamite.IntegrationTests.Infrastructure;

namespace Dynamite.IntegrationTests.Demo;

/// <summary>A real `dynamite demo` process with its own data directory and a free block of ports.</summary>
internal sealed class DemoProcess : ManagedProcess
{
    private DemoProcess(int basePort, string dataDirectory)
    {
        BasePort = basePort;
        DataDirectory = dataDirectory;
    }

    public int BasePort { get; }

    public string DataDirectory { get; }

    public static DemoProcess Start(int nodes, string engine)
    {
        int basePort = FindFreeBasePort(nodes);
        string dataDirectory = Directory.CreateTempSubdirectory("dynamite-demo-").FullName;
        var demo = new DemoProcess(basePort, dataDirectory);
        demo.StartProcess(
            "dotnet",
            [RepositoryPaths.DynamiteDll, "demo", "--nodes", nodes.ToString(), "--engine", engine, "--base-port", basePort.ToString(), "--data-dir", dataDirectory],
            RepositoryPaths.Root);
        return demo;
    }

    public int RespPort(int node) => BasePort + (10 * node) + 2;

    public string PidFile(int node) => Path.Combine(DataDirectory, $"n{node}", "node.pid");

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(DataDirectory, recursive: true);
    }

    /// <summary>
    /// A base port whose node ports (base+10i+1..3) are all free now. Searched below the Linux ephemeral range
    /// (32768+), where FreePort's OS-assigned ports come from, so the two never collide.
    /// </summary>
    private static int FindFreeBasePort(int nodes)
    {
        for (int attempt = 0; attempt < 200; attempt++)
        {
            int basePort = 20_000 + (Random.Shared.Next(0, 120) * 100);
            if (Enumerable.Range(1, nodes).SelectMany(i => new[] { 1, 2, 3 }.Select(k => basePort + (10 * i) + k)).All(IsFree))
            {
                return basePort;
            }
        }

        throw new InvalidOperationException("No free block of demo ports found.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
