using System.CommandLine;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Spectre.Console;

namespace Dynamite.Cli;

/// <summary>
/// <c>dynamite demo</c>: a local cluster of N nodes on loopback, each a child `dynamite start` process of
/// this same executable, until Ctrl-C or SIGTERM. Node i (1-based) is <c>n{i}</c> on ports base+10i+1
/// (peer), +2 (RESP), +3 (HTTP), with its data and <c>node.log</c> in DIR/n{i}, rack <c>rack{i}</c>.
/// </summary>
internal static class DemoCommand
{
    public const int MaxNodes = 16;
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);

    public static Command Create()
    {
        var nodes = new Option<int>("--nodes") { Description = $"How many nodes, 1 to {MaxNodes} (default: 3).", DefaultValueFactory = _ => 3 };
        var basePort = new Option<int>("--base-port") { Description = "Node i listens on base+10i+1 (peer), +2 (RESP), +3 (HTTP) (default: 8100, so n1 is 8111/8112/8113).", DefaultValueFactory = _ => 8100 };
        var dataDir = new Option<string>("--data-dir") { Description = "Each node keeps its data, node.log and node.pid in DIR/n<i> (default: ./demo-data).", DefaultValueFactory = _ => "demo-data" };
        var engine = new Option<string>("--engine") { Description = "Storage engine of every node: rocksdb, sqlite, lmdb or memory (default: rocksdb).", DefaultValueFactory = _ => "rocksdb" };
        engine.AcceptOnlyFromAmong("rocksdb", "sqlite", "lmdb", "memory");
        var command = new Command("demo", "Start a local cluster of nodes on loopback (child processes) until Ctrl-C; prints their addresses.")
        {
            nodes, basePort, dataDir, engine,
        };
        command.SetAction((parseResult, cancellationToken) => RunAsync(
            parseResult.GetValue(nodes), parseResult.GetValue(basePort), parseResult.GetValue(dataDir)!, parseResult.GetValue(engine)!, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(int count, int basePort, string dataDir, string engine, CancellationToken cancellationToken)
    {
        if (count is < 1 or > MaxNodes)
        {
            await Console.Error.WriteLineAsync($"dynamite demo: --nodes must be between 1 and {MaxNodes}, not {count}.");
            return 2;
        }

        if (basePort < 1 || basePort + (10 * count) + 3 > 65535)
        {
            await Console.Error.WriteLineAsync($"dynamite demo: --base-port {basePort} puts node ports outside 1-65535.");
            return 2;
        }

        // The node host handles SIGINT/SIGTERM itself, so the parser does not (Program.cs); the demo must too.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => Cancel(context, stop));
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => Cancel(context, stop));

        string root = Path.GetFullPath(dataDir);
        var cluster = Enumerable.Range(1, count).Select(i => new DemoNode(i, basePort, Path.Combine(root, $"n{i}"))).ToList();
        (string fileName, string[] prefix) = SelfCommand();
        string secret = RandomNumberGenerator.GetHexString(32, lowercase: true);
        int replicas = Math.Min(3, count);
        int quorum = (replicas / 2) + 1;
        try
        {
            foreach (DemoNode node in cluster)
            {
                string config = WriteSecretConfig(node, secret);
                string seeds = string.Join(',', cluster.Where(other => other != node).Select(other => other.PeerAddress));
                var arguments = new List<string>(prefix)
                {
                    "start", "--node-id", node.Id, "--config", config,
                    "--listen", $"127.0.0.1:{node.RespPort}", "--peer-listen", node.PeerAddress, "--http", $"127.0.0.1:{node.HttpPort}",
                    "--data-dir", node.DataDirectory, "--engine", engine,
                    "--dc", "dc1", "--rack", $"rack{node.Index}", "--cluster-name", "demo",
                    "--n", replicas.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "--r", quorum.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "--w", quorum.ToString(System.Globalization.CultureInfo.InvariantCulture),
                };
                if (seeds.Length > 0)
                {
                    arguments.AddRange(["--seeds", seeds]);
                }

                node.Start(fileName, arguments);
            }

            foreach (DemoNode node in cluster)
            {
                string? problem = await WaitUntilReadyAsync(node, stop.Token);
                if (problem is not null)
                {
                    await Console.Error.WriteLineAsync($"dynamite demo: node {node.Id} {problem}. Last lines of {node.LogPath}:\n{node.LogTail()}");
                    return 1;
                }
            }

            PrintReady(cluster, root, engine);
            return await SuperviseAsync(cluster, stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return 0;
        }
        finally
        {
            await StopAllAsync(cluster);
            foreach (DemoNode node in cluster)
            {
                node.Dispose();
            }
        }
    }

    private static void Cancel(PosixSignalContext context, CancellationTokenSource stop)
    {
        // Keep the process alive: the demo stops its nodes before it exits.
        context.Cancel = true;
        stop.Cancel();
    }

    /// <summary>How to start this same program again: the apphost directly, or `dotnet dynamite.dll`.</summary>
    private static (string FileName, string[] Prefix) SelfCommand()
    {
        string processPath = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot tell which executable is running.");
        string host = Path.GetFileNameWithoutExtension(processPath);
        if (host.Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            string assembly = typeof(DemoCommand).Assembly.Location;
            return (processPath, [assembly]);
        }

        return (processPath, []);
    }

    /// <summary>The secret goes in a file only the user can read: flags are visible to everyone in ps.</summary>
    private static string WriteSecretConfig(DemoNode node, string secret)
    {
        Directory.CreateDirectory(node.DataDirectory);
        string path = Path.Combine(node.DataDirectory, "node.yaml");
        File.WriteAllText(path, $"# Written by `dynamite demo`: a fresh secret per demo.\ncluster-secret: {secret}\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return path;
    }

    /// <summary>Null once the node answers PING on its RESP port; otherwise why it never will.</summary>
    private static async Task<string?> WaitUntilReadyAsync(DemoNode node, CancellationToken cancellationToken)
    {
        DateTime deadline = DateTime.UtcNow + ReadyTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (node.HasExited)
            {
                return $"exited with code {node.Process!.ExitCode} before it was ready";
            }

            if (await AnswersPingAsync(node.RespPort, cancellationToken))
            {
                return null;
            }

            await Task.Delay(100, cancellationToken);
        }

        return $"did not answer PING on 127.0.0.1:{node.RespPort} within {ReadyTimeout.TotalSeconds:0} s";
    }

    private static async Task<bool> AnswersPingAsync(int port, CancellationToken cancellationToken)
    {
        try
        {
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            attempt.CancelAfter(TimeSpan.FromSeconds(2));
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", port, attempt.Token);
            NetworkStream stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), attempt.Token);
            byte[] buffer = new byte[64];
            int read = await stream.ReadAsync(buffer, attempt.Token);
            // +PONG, or -NOAUTH when the node requires a password: either way it is serving.
            return read > 0 && (buffer[0] == (byte)'+' || buffer[0] == (byte)'-');
        }
        catch (Exception exception) when (exception is SocketException or IOException || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    private static void PrintReady(List<DemoNode> cluster, string root, string engine)
    {
        // Narrow enough for an 80-column terminal (Spectre assumes 80 when output is redirected).
        var table = new Table().Title($"[bold]Dynamite demo cluster[/] ({cluster.Count} nodes, engine {engine}, data in {Markup.Escape(root)})");
        table.AddColumns("node", "pid", "RESP (redis-cli -p)", "peer", "admin HTTP");
        foreach (DemoNode node in cluster)
        {
            table.AddRow(
                node.Id,
                node.Process!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
                $"127.0.0.1:{node.RespPort}",
                node.PeerAddress,
                $"127.0.0.1:{node.HttpPort}");
        }

        AnsiConsole.Write(table);
        DemoNode first = cluster[0];
        DemoNode other = cluster.Count > 1 ? cluster[1] : first;
        var lines = new StringBuilder();
        lines.AppendLine(CultureInvariant($"Try:  redis-cli -p {first.RespPort} set hello world"));
        lines.AppendLine(CultureInvariant($"      redis-cli -p {other.RespPort} get hello"));
        lines.AppendLine(CultureInvariant($"Logs in {root}/n<i>/node.log. Ctrl-C stops every node."));
        Console.Write(lines.ToString());
    }

    private static string CultureInvariant(FormattableString text) => FormattableString.Invariant(text);

    /// <summary>Runs until a stop signal; says so when a node dies; fails when every node has.</summary>
    private static async Task<int> SuperviseAsync(List<DemoNode> cluster, CancellationToken stop)
    {
        var running = cluster.ToDictionary(node => node.Process!.WaitForExitAsync(CancellationToken.None), node => node);
        Task stopped = Task.Delay(Timeout.Infinite, stop);
        while (running.Count > 0)
        {
            Task finished = await Task.WhenAny(running.Keys.Append(stopped));
            if (finished == stopped)
            {
                return 0;
            }

            DemoNode node = running[finished];
            running.Remove(finished);
            await Console.Error.WriteLineAsync(
                $"dynamite demo: node {node.Id} (pid {node.Process!.Id}) exited unexpectedly with code {node.Process.ExitCode}; see {node.LogPath}. " +
                $"{running.Count} node(s) still running.");
        }

        await Console.Error.WriteLineAsync("dynamite demo: every node has exited.");
        return 1;
    }

    /// <summary>SIGTERM every live node (a graceful shutdown), wait up to 15 s, then kill what is left.</summary>
    private static async Task StopAllAsync(List<DemoNode> cluster)
    {
        List<DemoNode> live = [.. cluster.Where(node => !node.HasExited)];
        if (live.Count == 0)
        {
            return;
        }

        Console.WriteLine($"Stopping {live.Count} node(s)...");
        foreach (DemoNode node in live)
        {
            node.Stopping = true;
            NativeSignals.TrySend(node.Process!.Id, NativeSignals.SigTerm);
        }

        using var timeout = new CancellationTokenSource(StopTimeout);
        foreach (DemoNode node in live)
        {
            try
            {
                await node.Process!.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine($"dynamite demo: node {node.Id} did not stop within {StopTimeout.TotalSeconds:0} s; killing it.");
                node.Process!.Kill(entireProcessTree: true);
                await node.Process.WaitForExitAsync(CancellationToken.None);
            }

            TryDelete(node.PidPath);
        }

        foreach (DemoNode node in cluster.Where(node => node.HasExited))
        {
            TryDelete(node.PidPath);
        }

        Console.WriteLine("Every node stopped.");
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }
}
