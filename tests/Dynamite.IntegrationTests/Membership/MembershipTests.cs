using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Dynamite.Core.Partitioning;
using Dynamite.IntegrationTests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Dynamite.IntegrationTests.Membership;

/// <summary>
/// Membership changes on real processes while clients write and read: a node joins by itself, a node leaves
/// with <c>dynamite leave</c>, a wiped node warms up, a node with the wrong secret is kept out, and gossip
/// converges across five nodes. "No acknowledged write lost" is checked key by key, through the cluster and on
/// every replica the final ring names.
/// </summary>
public sealed class MembershipTests(ITestOutputHelper output)
{
    private static readonly TimeSpan ChangeTimeout = TimeSpan.FromSeconds(120);
    private static readonly KeyPartitioner Partitioner = new(8);

    [Fact]
    public async Task Join_FourthNodeUnderContinuousLoad_LosesNothingAndTakesAQuarterWithItsData()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync(count: 3, spares: 1);
        Dictionary<string, string> preloaded = Preload(cluster, 0, "pre", 20_000);
        await using ContinuousLoad load = ContinuousLoad.Start(cluster, "live", 0, 1, 2);
        await Task.Delay(500);

        var joining = Stopwatch.StartNew();
        await cluster.StartSpareAsync(3);
        await WaitForAsync(() => Status(cluster, 3) is { } s && !s.PlanPending && s.Self.State == "up" && s.Members.Count == 4, "n4 joined and its plan completed", cluster);
        joining.Stop();
        await Task.Delay(1000);
        await load.StopAsync();

        ClusterStatus status = Status(cluster, 3)!;
        MemberView n4 = status.Members.Single(m => m.Id == "n4");
        output.WriteLine($"n4 joined and owned {n4.PartitionsOwned} of 256 partitions after {joining.Elapsed.TotalSeconds:0.0} s; load: {load}");
        output.WriteLine("first errors: " + string.Join(" | ", load.SampleErrors));
        output.WriteLine($"partitions owned: {string.Join(", ", status.Members.Select(m => $"{m.Id}={m.PartitionsOwned}"))}; n4 copied {cluster.InfoNumber(3, "handoff_keys_copied")} keys");
        Assert.Equal(0, load.QuorumErrors);
        Assert.Equal(0, load.WrongReads);
        Assert.InRange(n4.PartitionsOwned, 56, 72);

        Dictionary<string, string> all = new(preloaded);
        foreach ((string key, string value) in load.Acknowledged)
        {
            all[key] = value;
        }

        AssertNothingLost(cluster, all, [2, 3]);
        AssertEveryPrimaryHoldsItsKeys(cluster, all, 3);
    }

    [Fact]
    public async Task Leave_WhileWriting_LosesNothingAndExitsOnlyAfterTheHandoff()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync(count: 4);
        Dictionary<string, string> preloaded = Preload(cluster, 0, "pre", 5_000);
        await using ContinuousLoad load = ContinuousLoad.Start(cluster, "live", 0, 1);
        await Task.Delay(500);

        var leaving = Stopwatch.StartNew();
        ExternalTool.Result leave = await ExternalTool.RunAsync(
            "dotnet", [RepositoryPaths.DynamiteDll, "leave", "--http", $"127.0.0.1:{cluster[3].HttpPort}", "--wait", "120"], ChangeTimeout);
        output.WriteLine(leave.ToString());
        Assert.Equal(0, leave.ExitCode);
        await WaitForAsync(() => cluster.ForgetIfExitedAsync(3).GetAwaiter().GetResult(), "n4 exited", cluster);
        leaving.Stop();
        await Task.Delay(500);
        await load.StopAsync();

        ClusterStatus status = Status(cluster, 0)!;
        output.WriteLine($"n4 left and exited after {leaving.Elapsed.TotalSeconds:0.0} s; load: {load}; members: {string.Join(", ", status.Members.Select(m => $"{m.Id}={m.State}/{m.PartitionsOwned}"))}");
        Assert.Equal("removed", status.Members.Single(m => m.Id == "n4").State);
        Assert.Equal(256, status.Members.Where(m => m.Id != "n4").Sum(m => m.PartitionsOwned));
        Assert.Equal(0, load.QuorumErrors);

        Dictionary<string, string> all = new(preloaded);
        foreach ((string key, string value) in load.Acknowledged)
        {
            all[key] = value;
        }

        AssertNothingLost(cluster, all, [0, 1, 2]);
        AssertEveryPrimaryHoldsItsKeys(cluster, all, 0);
    }

    [Fact]
    public async Task Replacement_KilledWipedAndStartedAgain_WarmsUpWithEveryKeyItOwns()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync(count: 3, engine: "sqlite", extraArguments: ["--fsync", "never"]);
        Dictionary<string, string> keys = Preload(cluster, 0, "before", 3_000);
        await cluster.KillAsync(2);
        cluster.WipeData(2);
        foreach ((string key, string value) in Preload(cluster, 0, "while-down", 500))
        {
            keys[key] = value;
        }

        await cluster.RestartAsync(2);
        await WaitForAsync(() => cluster.Info(2).Contains("cluster_state:ok", StringComparison.Ordinal), "n3 warmed up", cluster);
        long copied = cluster.InfoNumber(2, "handoff_keys_copied");
        output.WriteLine($"n3 warmed up: {copied} keys copied from the replicas, {cluster.InfoNumber(0, "hints_replayed") + cluster.InfoNumber(1, "hints_replayed")} hints replayed to it");
        // Most keys come back by warm-up; the few written while it was down may come as hints instead.
        Assert.True(copied >= keys.Count / 2, $"{copied} keys copied");

        // With N = 3 on three nodes, n3 is a replica of every key.
        using RawRespClient n3 = cluster.Connect(2);
        int missing = keys.Count(pair => n3.Call("DYN.LOCALGET", pair.Key).Text != pair.Value);
        Assert.Equal(0, missing);
    }

    [Fact]
    public async Task JoinVerb_LoneNodeJoinsARunningCluster_AndHoldsThePartitionsItGains()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync(count: 3, spares: 1);
        Dictionary<string, string> keys = Preload(cluster, 0, "cluster", 1_000);

        // Seeded with its own address only: a cluster of one, until told to join.
        await cluster.StartSpareAsync(3, ["--seeds", cluster.PeerAddress(3)]);
        await WaitForAsync(() => cluster.Info(3).Contains("cluster_state:ok", StringComparison.Ordinal), "the lone node founded its cluster of one", cluster);
        Assert.Equal(1, cluster.InfoNumber(3, "cluster_members"));
        ExternalTool.Result join = await ExternalTool.RunAsync(
            "dotnet", [RepositoryPaths.DynamiteDll, "join", "--http", $"127.0.0.1:{cluster[3].HttpPort}", "--seed", cluster.PeerAddress(0), "--wait", "120"], ChangeTimeout);
        output.WriteLine(join.ToString());
        // A failed status poll is survived by the verb, but its cause (an error n4 logged) is worth seeing.
        output.WriteLine("n4's errors:\n" + string.Join("\n", cluster[3].Output.Split('\n').Where(line => line.Contains(" fail: ", StringComparison.Ordinal))));
        Assert.True(join.ExitCode == 0, $"join exited {join.ExitCode}; n4's log:\n{cluster[3].Output}");
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(4, cluster.InfoNumber(i, "cluster_members"));
        }

        AssertNothingLost(cluster, keys, [0, 3]);
        AssertEveryPrimaryHoldsItsKeys(cluster, keys, 0);
    }

    [Fact]
    public async Task Remove_DeadNode_ItsPartitionsAreRebuiltFromTheSurvivors()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync(count: 4);
        Dictionary<string, string> keys = Preload(cluster, 0, "pre", 4_000);
        await cluster.KillAsync(3);
        await WaitForAsync(() => cluster.Info(0).Contains("peer_n4:health=down", StringComparison.Ordinal), "n1 sees n4 down", cluster);

        ExternalTool.Result remove = await ExternalTool.RunAsync(
            "dotnet", [RepositoryPaths.DynamiteDll, "remove", "--http", $"127.0.0.1:{cluster[1].HttpPort}", "n4", "--wait", "120"], ChangeTimeout);
        output.WriteLine(remove.ToString());
        Assert.Equal(0, remove.ExitCode);
        await WaitForAsync(() => Status(cluster, 0) is { PlanPending: false } s && s.Members.Single(m => m.Id == "n4").PartitionsOwned == 0, "n1 sees the plan complete", cluster);

        ClusterStatus status = Status(cluster, 0)!;
        output.WriteLine($"members after remove: {string.Join(", ", status.Members.Select(m => $"{m.Id}={m.State}/{m.PartitionsOwned}"))}");
        Assert.Equal("removed", status.Members.Single(m => m.Id == "n4").State);
        Assert.Equal(256, status.Members.Where(m => m.Id != "n4").Sum(m => m.PartitionsOwned));
        AssertNothingLost(cluster, keys, [0, 2]);
        AssertEveryPrimaryHoldsItsKeys(cluster, keys, 0);
    }

    [Fact]
    public async Task WrongSecret_NodeCannotJoin()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync(count: 3, spares: 1);
        await cluster.StartSpareAsync(3, ["--cluster-secret", "not-the-secret"]);
        await Task.Delay(4000);

        string info = cluster.Info(3);
        Assert.Contains("cluster_state:waiting", info, StringComparison.Ordinal);
        using (RawRespClient outsider = cluster.Connect(3))
        {
            RespValue refused = outsider.Call("SET", "k", "v");
            output.WriteLine(refused.ToString());
            Assert.True(refused.IsError);
            Assert.Contains("authentication failed", refused.Text, StringComparison.Ordinal);
        }

        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(3, cluster.InfoNumber(i, "cluster_members"));
        }
    }

    [Fact]
    public async Task Gossip_FiveNodes_EveryChangeConvergesWithinFiveSeconds()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync(count: 4, spares: 1);
        var times = new List<double>();

        // A join spreads from the seed that admitted it, the plan from the claimant, each ready report from its
        // gainer. For every state that ends up on all five nodes, the time from its first sighting on any node to
        // its sighting on all of them is one change's convergence time.
        await cluster.StartSpareAsync(4);
        var firstSeen = new Dictionary<string, TimeSpan>();
        string? lastUniform = null;
        bool settled = false;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < ChangeTimeout && !settled)
        {
            string[] infos = [.. Enumerable.Range(0, 5).Select(i => cluster.Info(i))];
            string[] digests = [.. infos.Select(info => Field(info, "cluster_state_digest") ?? "?")];
            foreach (string digest in digests.Where(d => d != "?"))
            {
                firstSeen.TryAdd(digest, clock.Elapsed);
            }

            bool uniform = digests.Distinct().Count() == 1 && digests[0] != "?";
            if (uniform && digests[0] != lastUniform)
            {
                times.Add((clock.Elapsed - firstSeen[digests[0]]).TotalSeconds);
                lastUniform = digests[0];
            }

            settled = uniform && infos.All(info => Field(info, "plan_pending") == "0" && Field(info, "cluster_members") == "5" && Field(info, "cluster_state") == "ok");
            await Task.Delay(50);
        }

        output.WriteLine($"5 nodes: seconds for each change to reach every node: {string.Join(", ", times.Select(t => t.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)))}; settled after {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.True(settled, "the join's plan did not complete on every node within the deadline");
        Assert.NotEmpty(times);
        Assert.All(times, t => Assert.True(t < 5, $"{t:0.00} s to converge"));
    }

    private static Dictionary<string, string> Preload(LocalCluster cluster, int node, string prefix, int count)
    {
        var keys = new Dictionary<string, string>(count);
        using RawRespClient client = cluster.Connect(node);
        const int batch = 500;
        for (int start = 0; start < count; start += batch)
        {
            var payload = new MemoryStream();
            int end = Math.Min(count, start + batch);
            for (int i = start; i < end; i++)
            {
                payload.Write(RawRespClient.Encode("SET", $"{prefix}:{i}", $"{prefix}-value-{i}"));
                keys[$"{prefix}:{i}"] = $"{prefix}-value-{i}";
            }

            client.SendRaw(payload.ToArray());
            for (int i = start; i < end; i++)
            {
                Assert.Equal("+OK", client.Read().ToString());
            }
        }

        return keys;
    }

    /// <summary>Every acknowledged key reads back its value through each of <paramref name="nodes"/> (quorum reads).</summary>
    private static void AssertNothingLost(LocalCluster cluster, Dictionary<string, string> keys, int[] nodes)
    {
        foreach (int node in nodes)
        {
            using RawRespClient client = cluster.Connect(node);
            var lost = keys.Where(pair => client.Call("GET", pair.Key).Text != pair.Value).Select(pair => pair.Key).Take(10).ToList();
            Assert.True(lost.Count == 0, $"through n{node + 1}, acknowledged writes not read back: {string.Join(", ", lost)}");
        }
    }

    /// <summary>Each key is stored on every primary the final ring (as <paramref name="viewer"/> reports it) names for it.</summary>
    private void AssertEveryPrimaryHoldsItsKeys(LocalCluster cluster, Dictionary<string, string> keys, int viewer)
    {
        using JsonDocument ring = JsonDocument.Parse(AdminGet(cluster, viewer, "/v1/ring"));
        string[][] primaries = [.. ring.RootElement.GetProperty("partitions").EnumerateArray()
            .Select(p => p.GetProperty("primaries").EnumerateArray().Select(n => n.GetString()!).ToArray())];
        var clients = new Dictionary<string, RawRespClient>();
        try
        {
            int checkedCopies = 0;
            foreach ((string key, string value) in keys)
            {
                foreach (string node in primaries[Partitioner.PartitionOf(Encoding.UTF8.GetBytes(key)).Value])
                {
                    int index = int.Parse(node.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture) - 1;
                    RawRespClient client = clients.TryGetValue(node, out RawRespClient? known) ? known : clients[node] = cluster.Connect(index);
                    Assert.True(client.Call("DYN.LOCALGET", key).Text == value, $"{node} is a primary of {key} but does not hold it");
                    checkedCopies++;
                }
            }

            output.WriteLine($"{checkedCopies} replica copies checked on their primaries");
        }
        finally
        {
            foreach (RawRespClient client in clients.Values)
            {
                client.Dispose();
            }
        }
    }

    private static ClusterStatus? Status(LocalCluster cluster, int node)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(AdminGet(cluster, node, "/v1/cluster"));
            JsonElement root = document.RootElement;
            var members = root.GetProperty("members").EnumerateArray().Select(m => new MemberView(
                m.GetProperty("id").GetString()!, m.GetProperty("state").GetString()!, m.GetProperty("partitionsOwned").GetInt32(), m.GetProperty("self").GetBoolean())).ToList();
            return new ClusterStatus(root.GetProperty("planPending").GetBoolean(), members);
        }
        catch (Exception exception) when (exception is HttpRequestException or JsonException or KeyNotFoundException or TaskCanceledException)
        {
            return null;
        }
    }

    private static string AdminGet(LocalCluster cluster, int node, string path)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        return http.GetStringAsync($"http://127.0.0.1:{cluster[node].HttpPort}{path}").GetAwaiter().GetResult();
    }

    private static string? Field(string info, string name)
    {
        foreach (string line in info.Split("\r\n"))
        {
            if (line.StartsWith(name + ":", StringComparison.Ordinal))
            {
                return line[(name.Length + 1)..];
            }
        }

        return null;
    }

    private static async Task WaitForAsync(Func<bool> condition, string what, LocalCluster cluster)
    {
        DateTime deadline = DateTime.UtcNow + ChangeTimeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"not reached within {ChangeTimeout.TotalSeconds} s: {what}\n" +
                    string.Join("\n", Enumerable.Range(0, cluster.Count).Where(cluster.IsRunning).Select(i => $"--- n{i + 1}\n{cluster.Info(i)}")));
            }

            await Task.Delay(200);
        }
    }

    private sealed record MemberView(string Id, string State, int PartitionsOwned, bool IsSelf);

    private sealed record ClusterStatus(bool PlanPending, List<MemberView> Members)
    {
        public MemberView Self => Members.Single(m => m.IsSelf);
    }
}
