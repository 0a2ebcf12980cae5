using System.ComponentModel;
using System.Globalization;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Dynamite.IntegrationTests.Infrastructure;

/// <summary>
/// A cluster of real `dynamite start` processes, each in a network namespace of its own
/// (`dyn&lt;suffix&gt;-n&lt;i&gt;`) with a veth into a bridge (`dynbr&lt;suffix&gt;`) in the host namespace. The host
/// has 10.213.X.1 on the bridge and node i has 10.213.X.(10+i), so clients in the test process reach every
/// node over the bridge, and faults are real kernel faults: iptables DROP rules inside the nodes' namespaces
/// (partitions, random loss) and SIGSTOP/SIGCONT of the node process. Only names with this fixture's prefix
/// and addresses inside its own namespaces are ever touched; everything it creates is removed on dispose,
/// and leftovers of a crashed run (namespaces with no process left in them) are removed at start.
/// </summary>
internal sealed partial class NetnsCluster : IAsyncDisposable
{
    public const int RespPort = 8102;
    public const int PeerPort = 8101;
    public const int HttpPort = 22222;
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);
    private readonly string _suffix;
    private readonly int _subnet;
    private readonly NetnsNode?[] _nodes;
    private readonly string[] _dataDirectories;
    private readonly List<string> _createdNamespaces = [];
    private readonly IReadOnlyList<string> _extraArguments;
    private readonly string _engine;
    private bool _bridgeCreated;

    private NetnsCluster(int count, string suffix, int subnet, IReadOnlyList<string> extraArguments, string engine)
    {
        _engine = engine;
        _suffix = suffix;
        _subnet = subnet;
        _nodes = new NetnsNode?[count];
        _dataDirectories = [.. Enumerable.Range(0, count).Select(_ => Directory.CreateTempSubdirectory("dynamite-netns-").FullName)];
        _extraArguments = extraArguments;
    }

    public int Count => _nodes.Length;

    /// <summary>Node <paramref name="index"/> (0-based; its id is n{index+1}).</summary>
    public NetnsNode this[int index] => _nodes[index] ?? throw new InvalidOperationException($"node n{index + 1} is not running");

    public string HostAddress => $"10.213.{_subnet}.1";

    private string Bridge => $"dynbr{_suffix}";

    public string Address(int index) => $"10.213.{_subnet}.{11 + index}";

    public string Namespace(int index) => $"dyn{_suffix}-n{index + 1}";

    private string HostVeth(int index) => $"dyn{_suffix}h{index + 1}";

    private string NodeVeth(int index) => $"dyn{_suffix}v{index + 1}";

    /// <summary>
    /// Creates the namespaces and the bridge and starts <paramref name="count"/> nodes (N=3 R=2 W=2 unless
    /// <paramref name="extraArguments"/> say otherwise) over <paramref name="engine"/>, then waits until every node sees
    /// every other as up. Throws, never skips, when the machine cannot run it (not root, no `ip`, no `iptables`).
    /// </summary>
    public static async Task<NetnsCluster> StartAsync(int count = 3, IEnumerable<string>? extraArguments = null, string engine = "memory")
    {
        await RequireEnvironmentAsync();
        await RemoveStaleAsync();
        string addresses = (await RunCheckedAsync("ip", ["-4", "-o", "addr", "show"])).StandardOutput;
        int subnet = Enumerable.Range(0, 64).Select(_ => Random.Shared.Next(1, 255)).First(x => !addresses.Contains($" 10.213.{x}.", StringComparison.Ordinal));
        var cluster = new NetnsCluster(count, Random.Shared.Next(0x10000).ToString("x4", CultureInfo.InvariantCulture), subnet, [.. extraArguments ?? []], engine);
        try
        {
            await cluster.CreateNetworkAsync();
            for (int i = 0; i < count; i++)
            {
                cluster.StartNode(i);
            }

            for (int i = 0; i < count; i++)
            {
                await cluster.WaitUntilServingAsync(i);
            }

            await cluster.WaitUntilAllSeeEachOtherAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public RawRespClient Connect(int index, int timeoutMs = 15000) => this[index].Connect(timeoutMs);

    /// <summary>Drops every packet between the nodes of <paramref name="side"/> and those of <paramref name="otherSide"/>, both ways, in both namespaces.</summary>
    public async Task PartitionAsync(IReadOnlyList<int> side, IReadOnlyList<int> otherSide)
    {
        foreach (int a in side)
        {
            foreach (int b in otherSide)
            {
                await DropBetweenAsync(a, b);
                await DropBetweenAsync(b, a);
            }
        }
    }

    /// <summary>Drops each packet arriving in node <paramref name="index"/>'s namespace with the given probability (clients' and peers' alike).</summary>
    public Task AddInboundLossAsync(int index, double probability) =>
        IptablesAsync(index, "-A", "INPUT", "-m", "statistic", "--mode", "random", "--probability", probability.ToString(CultureInfo.InvariantCulture), "-j", "DROP");

    /// <summary>Removes every rule a partition or loss added.</summary>
    public async Task HealAsync()
    {
        for (int i = 0; i < Count; i++)
        {
            await IptablesAsync(i, "-F", "INPUT");
            await IptablesAsync(i, "-F", "OUTPUT");
        }
    }

    /// <summary>SIGSTOP: the process freezes with its sockets open, as in a long GC pause or a stalled VM.</summary>
    public void Pause(int index) => this[index].Signal(Signals.SigStop);

    public void Resume(int index) => this[index].Signal(Signals.SigCont);

    /// <summary>SIGKILL (kill -9): the process dies at once, with nothing flushed or closed.</summary>
    public async Task KillAsync(int index)
    {
        await this[index].KillAsync();
        await this[index].DisposeAsync();
        _nodes[index] = null;
    }

    /// <summary>Starts a killed node again over its data directory and waits until it answers.</summary>
    public async Task RestartAsync(int index)
    {
        StartNode(index);
        await WaitUntilServingAsync(index);
    }

    /// <summary>The node's INFO cluster text ("" when it does not answer within the timeout).</summary>
    public string Info(int index, int timeoutMs = 5000)
    {
        try
        {
            using RawRespClient client = Connect(index, timeoutMs);
            return client.Call("INFO", "cluster").Text ?? "";
        }
        catch (Exception exception) when (exception is IOException or SocketException)
        {
            return "";
        }
    }

    /// <summary>What node <paramref name="observer"/>'s failure detector says of node <paramref name="peer"/>: up, suspect, down, or "" when unknown.</summary>
    public string Health(int observer, int peer)
    {
        string prefix = $"peer_n{peer + 1}:health=";
        foreach (string line in Info(observer).Split("\r\n"))
        {
            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                return line[prefix.Length..].Split(',')[0];
            }
        }

        return "";
    }

    /// <summary>Waits until every node's failure detector sees every other node as up.</summary>
    public async Task WaitUntilAllSeeEachOtherAsync()
    {
        DateTime deadline = DateTime.UtcNow + ReadyTimeout;
        while (true)
        {
            bool ready = true;
            for (int i = 0; i < Count && ready; i++)
            {
                string info = Info(i);
                ready = info.Contains("cluster_state:ok", StringComparison.Ordinal);
                for (int j = 0; j < Count && ready; j++)
                {
                    ready = j == i || info.Contains($"peer_n{j + 1}:health=up", StringComparison.Ordinal);
                }
            }

            if (ready)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("the namespaced cluster did not become ready:\n" + string.Join("\n", Enumerable.Range(0, Count).Select(i => $"--- n{i + 1}\n{Info(i)}\n{_nodes[i]?.Output}")));
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Runs `dynamite` CLI verbs (status, repair) against node <paramref name="index"/>'s admin API over the bridge.</summary>
    public Task<ExternalTool.Result> CliAsync(int index, params string[] arguments) =>
        ExternalTool.RunAsync("dotnet", [RepositoryPaths.DynamiteDll, .. arguments, "--http", $"{Address(index)}:{HttpPort}"], TimeSpan.FromMinutes(2));

    private void StartNode(int index)
    {
        var arguments = new List<string>
        {
            "start",
            "--node-id", $"n{index + 1}",
            "--listen", $"{Address(index)}:{RespPort}",
            "--peer-listen", $"{Address(index)}:{PeerPort}",
            "--http", $"{Address(index)}:{HttpPort}",
            "--data-dir", _dataDirectories[index],
            "--engine", _engine,
            "--seeds", string.Join(",", Enumerable.Range(0, Count).Where(j => j != index).Select(j => $"{Address(j)}:{PeerPort}")),
            "--rack", $"rack{index + 1}",
            "--cluster-name", "netns",
            "--cluster-secret", "netns-secret",
            // The tests reach the nodes from the host over the bridge, beyond their loopback, without a password.
            "--protected-mode", "off",
        };
        arguments.AddRange(_extraArguments);
        _nodes[index] = NetnsNode.Start(Namespace(index), Address(index), arguments);
    }

    private async Task WaitUntilServingAsync(int index)
    {
        DateTime deadline = DateTime.UtcNow + ReadyTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (this[index].HasExited)
            {
                throw new InvalidOperationException($"n{index + 1} exited with {this[index].ExitCode} before serving:\n{this[index].Output}");
            }

            try
            {
                using RawRespClient client = Connect(index, 1000);
                return;
            }
            catch (Exception exception) when (exception is IOException or SocketException)
            {
                await Task.Delay(100);
            }
        }

        throw new TimeoutException($"n{index + 1} did not listen on {Address(index)}:{RespPort} within {ReadyTimeout}:\n{this[index].Output}");
    }

    private async Task CreateNetworkAsync()
    {
        for (int i = 0; i < Count; i++)
        {
            await RunCheckedAsync("ip", ["netns", "add", Namespace(i)]);
            _createdNamespaces.Add(Namespace(i));
        }

        await RunCheckedAsync("ip", ["link", "add", Bridge, "type", "bridge"]);
        _bridgeCreated = true;
        await RunCheckedAsync("ip", ["addr", "add", $"{HostAddress}/24", "dev", Bridge]);
        await RunCheckedAsync("ip", ["link", "set", Bridge, "up"]);
        for (int i = 0; i < Count; i++)
        {
            await RunCheckedAsync("ip", ["link", "add", HostVeth(i), "type", "veth", "peer", "name", NodeVeth(i)]);
            await RunCheckedAsync("ip", ["link", "set", NodeVeth(i), "netns", Namespace(i)]);
            await RunCheckedAsync("ip", ["link", "set", HostVeth(i), "master", Bridge]);
            await RunCheckedAsync("ip", ["link", "set", HostVeth(i), "up"]);
            await RunCheckedAsync("ip", ["-n", Namespace(i), "addr", "add", $"{Address(i)}/24", "dev", NodeVeth(i)]);
            await RunCheckedAsync("ip", ["-n", Namespace(i), "link", "set", NodeVeth(i), "up"]);
            await RunCheckedAsync("ip", ["-n", Namespace(i), "link", "set", "lo", "up"]);
        }
    }

    private async Task DropBetweenAsync(int inNode, int otherNode)
    {
        await IptablesAsync(inNode, "-A", "INPUT", "-s", Address(otherNode), "-j", "DROP");
        await IptablesAsync(inNode, "-A", "OUTPUT", "-d", Address(otherNode), "-j", "DROP");
    }

    private Task IptablesAsync(int index, params string[] rule) => RunCheckedAsync("ip", ["netns", "exec", Namespace(index), "iptables", "-w", .. rule]);

    private static async Task RequireEnvironmentAsync()
    {
        string uid = (await RunRequiredToolAsync("id", ["-u"], "coreutils")).StandardOutput.Trim();
        if (uid != "0")
        {
            throw new InvalidOperationException($"the network-namespace fault tests must run as root (uid {uid}): they create namespaces, a bridge and iptables rules. CI runs them as root.");
        }

        await RunRequiredToolAsync("ip", ["-V"], "iproute2");
        await RunRequiredToolAsync("iptables", ["--version"], "iptables");
    }

    private static async Task<ExternalTool.Result> RunRequiredToolAsync(string tool, string[] arguments, string package)
    {
        try
        {
            ExternalTool.Result result = await ExternalTool.RunAsync(tool, arguments, CommandTimeout);
            return result.ExitCode == 0 ? result : throw new InvalidOperationException($"`{tool} {string.Join(' ', arguments)}` failed ({result}); the network-namespace fault tests need it (package {package}; scripts/test.sh installs it).");
        }
        catch (Win32Exception exception)
        {
            throw new InvalidOperationException($"`{tool}` is not installed: the network-namespace fault tests need it (apt-get install {package}; scripts/test.sh installs it).", exception);
        }
    }

    /// <summary>
    /// Removes what a killed test run left behind: namespaces of this prefix with no process inside (a live
    /// one belongs to a run still going on), then bridges and veths whose suffix has no namespace left.
    /// </summary>
    private static async Task RemoveStaleAsync()
    {
        var liveSuffixes = new HashSet<string>(StringComparer.Ordinal);
        foreach (string line in (await RunCheckedAsync("ip", ["netns", "list"])).StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string name = line.Split(' ')[0];
            Match match = NamespacePattern().Match(name);
            if (!match.Success)
            {
                continue;
            }

            if ((await RunCheckedAsync("ip", ["netns", "pids", name])).StandardOutput.Trim().Length > 0)
            {
                liveSuffixes.Add(match.Groups[1].Value);
            }
            else
            {
                await RunQuietAsync("ip", ["netns", "del", name]);
            }
        }

        foreach (string line in (await RunCheckedAsync("ip", ["-o", "link", "show"])).StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] fields = line.Split(':', 3);
            if (fields.Length < 2)
            {
                continue;
            }

            string name = fields[1].Trim().Split('@')[0];
            Match match = LinkPattern().Match(name);
            if (match.Success && !liveSuffixes.Contains(match.Groups[1].Success ? match.Groups[1].Value : match.Groups[2].Value))
            {
                await RunQuietAsync("ip", ["link", "del", name]);
            }
        }
    }

    private static async Task<ExternalTool.Result> RunCheckedAsync(string tool, string[] arguments)
    {
        ExternalTool.Result result = await ExternalTool.RunAsync(tool, arguments, CommandTimeout);
        return result.ExitCode == 0 ? result : throw new InvalidOperationException($"`{tool} {string.Join(' ', arguments)}` failed: {result}");
    }

    /// <summary>Best effort, for cleanup: a failure here must not hide the test's own failure.</summary>
    private static async Task RunQuietAsync(string tool, string[] arguments)
    {
        try
        {
            await ExternalTool.RunAsync(tool, arguments, CommandTimeout);
        }
        catch (Exception exception) when (exception is TimeoutException or Win32Exception or InvalidOperationException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (NetnsNode? node in _nodes)
        {
            if (node is not null)
            {
                // SIGKILL ends a stopped process too, so a test that failed mid-pause still cleans up.
                await node.DisposeAsync();
            }
        }

        // Deleting a namespace deletes the veth end inside it, and with it the pair's host end.
        foreach (string name in _createdNamespaces)
        {
            await RunQuietAsync("ip", ["netns", "del", name]);
        }

        for (int i = 0; i < Count; i++)
        {
            await RunQuietAsync("ip", ["link", "del", HostVeth(i)]);
        }

        if (_bridgeCreated)
        {
            await RunQuietAsync("ip", ["link", "del", Bridge]);
        }

        foreach (string directory in _dataDirectories)
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [GeneratedRegex("^dyn([0-9a-f]{4})-n[0-9]+$")]
    private static partial Regex NamespacePattern();

    [GeneratedRegex("^(?:dynbr([0-9a-f]{4})|dyn([0-9a-f]{4})[hv][0-9]+)$")]
    private static partial Regex LinkPattern();
}
