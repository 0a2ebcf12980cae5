using System.Globalization;

namespace Dynamite.IntegrationTests.Infrastructure;

/// <summary>
/// A cluster of real `dynamite start` processes on loopback, each with its own ports, rack and data
/// directory, every founding node seeded with every other founder's peer address. Nodes can be killed and
/// restarted on the same ports and data, as an operator would. Spare slots (ports and a directory, no
/// process) are for nodes that join later, seeded with the founders.
/// </summary>
internal sealed class LocalCluster : IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);
    private readonly DynamiteNode?[] _nodes;
    private readonly int[] _respPorts;
    private readonly int[] _peerPorts;
    private readonly int[] _httpPorts;
    private readonly string[] _dataDirectories;
    private readonly string _engine;
    private readonly IReadOnlyList<string> _extraArguments;
    private readonly Func<int, IEnumerable<string>>? _nodeArguments;
    private readonly int _founders;

    private LocalCluster(int founders, int count, string engine, IReadOnlyList<string> extraArguments, Func<int, IEnumerable<string>>? nodeArguments)
    {
        _nodeArguments = nodeArguments;
        _founders = founders;
        _nodes = new DynamiteNode?[count];
        _respPorts = [.. Enumerable.Range(0, count).Select(_ => FreePort.Next())];
        _peerPorts = [.. Enumerable.Range(0, count).Select(_ => FreePort.Next())];
        _httpPorts = [.. Enumerable.Range(0, count).Select(_ => FreePort.Next())];
        _dataDirectories = [.. Enumerable.Range(0, count).Select(_ => Directory.CreateTempSubdirectory("dynamite-cluster-").FullName)];
        _engine = engine;
        _extraArguments = extraArguments;
    }

    public int Count => _nodes.Length;

    /// <summary>Node <paramref name="index"/> (0-based; its id is n{index+1}).</summary>
    public DynamiteNode this[int index] => _nodes[index] ?? throw new InvalidOperationException($"node n{index + 1} is not running");

    /// <summary>
    /// Starts <paramref name="count"/> founding nodes on <paramref name="engine"/> with <paramref name="extraArguments"/>
    /// and <paramref name="spares"/> slots for later nodes; <paramref name="nodeArguments"/> gives the flags of node
    /// <c>index</c> alone (its certificate files), every time it starts.
    /// </summary>
    public static async Task<LocalCluster> StartAsync(int count = 3, string engine = "memory", IEnumerable<string>? extraArguments = null, int spares = 0,
        Func<int, IEnumerable<string>>? nodeArguments = null)
    {
        var cluster = new LocalCluster(count, count + spares, engine, [.. extraArguments ?? []], nodeArguments);
        try
        {
            await Task.WhenAll(Enumerable.Range(0, count).Select(i => cluster.StartNodeAsync(i)));
            await cluster.WaitUntilAllSeeEachOtherAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public RawRespClient Connect(int index) => this[index].Connect();

    /// <summary>kill -9 node <paramref name="index"/>; its data directory stays.</summary>
    public async Task KillAsync(int index)
    {
        await this[index].KillAsync();
        await this[index].DisposeAsync();
        _nodes[index] = null;
    }

    /// <summary>Starts node <paramref name="index"/> again on its ports and data directory, with extra flags if given.</summary>
    public Task RestartAsync(int index, IEnumerable<string>? extraArguments = null) => StartNodeAsync(index, extraArguments);

    /// <summary>Starts spare node <paramref name="index"/> (seeded with the founders): it joins the running cluster by itself.</summary>
    public Task StartSpareAsync(int index, IEnumerable<string>? extraArguments = null) =>
        index < _founders ? throw new ArgumentOutOfRangeException(nameof(index), "not a spare slot") : StartNodeAsync(index, extraArguments);

    public bool IsRunning(int index) => _nodes[index] is not null;

    /// <summary>Node <paramref name="index"/>'s peer protocol address.</summary>
    public string PeerAddress(int index) => $"127.0.0.1:{_peerPorts[index]}";

    /// <summary>Forgets a node whose process exited by itself (after leaving the cluster); true if it had exited.</summary>
    public async Task<bool> ForgetIfExitedAsync(int index)
    {
        if (_nodes[index] is not { HasExited: true } node)
        {
            return false;
        }

        await node.DisposeAsync();
        _nodes[index] = null;
        return true;
    }

    /// <summary>Deletes node <paramref name="index"/>'s data directory (the node must be stopped): a replacement starts empty.</summary>
    public void WipeData(int index)
    {
        if (_nodes[index] is not null)
        {
            throw new InvalidOperationException($"n{index + 1} is running");
        }

        Directory.Delete(_dataDirectories[index], recursive: true);
        Directory.CreateDirectory(_dataDirectories[index]);
    }

    /// <summary>Waits until every running node's failure detector sees every other running node as up.</summary>
    public async Task WaitUntilAllSeeEachOtherAsync()
    {
        DateTime deadline = DateTime.UtcNow + ReadyTimeout;
        while (true)
        {
            bool ready = true;
            for (int i = 0; i < Count && ready; i++)
            {
                if (_nodes[i] is null)
                {
                    continue;
                }

                string info = Info(i);
                ready = info.Contains("cluster_state:ok", StringComparison.Ordinal);
                for (int j = 0; j < Count && ready; j++)
                {
                    if (j != i && _nodes[j] is not null)
                    {
                        ready = info.Contains($"peer_n{j + 1}:health=up", StringComparison.Ordinal);
                    }
                }
            }

            if (ready)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("the cluster did not become ready:\n" + string.Join("\n", Enumerable.Range(0, Count).Where(i => _nodes[i] is not null).Select(i => $"--- n{i + 1}\n{Info(i)}\n{_nodes[i]!.Output}")));
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The node's INFO cluster text.</summary>
    public string Info(int index)
    {
        try
        {
            using RawRespClient client = Connect(index);
            return client.Call("INFO", "cluster").Text ?? "";
        }
        catch (Exception exception) when (exception is IOException or System.Net.Sockets.SocketException)
        {
            return "";
        }
    }

    /// <summary>One INFO cluster field of a node as a number.</summary>
    public long InfoNumber(int index, string field)
    {
        foreach (string line in Info(index).Split("\r\n"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                return long.Parse(line[(field.Length + 1)..], CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"no {field} in INFO cluster of n{index + 1}");
    }

    private async Task StartNodeAsync(int index, IEnumerable<string>? extraArguments = null)
    {
        var arguments = new List<string>
        {
            "--peer-listen", $"127.0.0.1:{_peerPorts[index]}",
            "--rack", $"rack{index + 1}",
            "--cluster-name", "test",
        };
        if (!(extraArguments ?? []).Contains("--seeds"))
        {
            arguments.AddRange(["--seeds", string.Join(",", Enumerable.Range(0, _founders).Where(j => j != index).Select(j => PeerAddress(j)))]);
        }

        if (!(extraArguments ?? []).Contains("--cluster-secret"))
        {
            arguments.AddRange(["--cluster-secret", "test-secret"]);
        }

        arguments.AddRange(_extraArguments);
        arguments.AddRange(_nodeArguments?.Invoke(index) ?? []);
        arguments.AddRange(extraArguments ?? []);
        _nodes[index] = await DynamiteNode.StartAsync(_engine, arguments, _dataDirectories[index], _respPorts[index], $"n{index + 1}", _httpPorts[index]);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (DynamiteNode? node in _nodes)
        {
            if (node is not null)
            {
                await node.DisposeAsync();
            }
        }

        foreach (string directory in _dataDirectories)
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }
}
