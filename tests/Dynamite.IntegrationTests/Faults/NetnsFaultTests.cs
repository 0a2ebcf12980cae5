using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Dynamite.IntegrationTests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Dynamite.IntegrationTests.Faults;

/// <summary>
/// Real kernel faults on three real nodes (N=3 R=2 W=2), each in its own network namespace behind a bridge,
/// with the load clients in the host namespace: a partition by iptables DROP rules, a node frozen with
/// SIGSTOP, and random loss of 20% of one node's incoming packets. Every acknowledged write must survive, and
/// the replicas must converge. Needs root (CI runs as root) and iptables; fails, never skips, without them.
/// </summary>
[Collection(NetnsCollection.Name)]
public sealed partial class NetnsFaultTests(ITestOutputHelper output)
{
    private static readonly TimeSpan ConvergeTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan DetectionLimit = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task PartitionN1FromN2N3For30s_FiveClientsWrite10000Keys_NoAcknowledgedWriteLostAndReplicasEqualAfterHeal()
    {
        await using NetnsCluster cluster = await NetnsCluster.StartAsync(extraArguments: ["--aae-interval", "1"]);
        await cluster.PartitionAsync([0], [1, 2]);
        DateTime partitioned = DateTime.UtcNow;

        // 2,000 keys per client, one every 12 ms: the 10,000 writes spread over the first ~24 s of the partition.
        WriteOutcome[] outcomes = await KeyWriteLoad.RunAsync(
            cluster, "part", clients: 5, keysPerClient: 2000, coordinators: [0, 1, 2], TimeSpan.FromMilliseconds(12), timeoutMs: 3000, deadline: partitioned + TimeSpan.FromSeconds(50));
        string n1SeesN2 = cluster.Health(0, 1);
        string n2SeesN1 = cluster.Health(1, 0);
        TimeSpan remaining = partitioned + TimeSpan.FromSeconds(30) - DateTime.UtcNow;
        if (remaining > TimeSpan.Zero)
        {
            await Task.Delay(remaining);
        }

        await cluster.HealAsync();
        var sinceHeal = Stopwatch.StartNew();
        TimeSpan partitionLasted = DateTime.UtcNow - partitioned;
        await cluster.WaitUntilAllSeeEachOtherAsync();
        TimeSpan allUp = sinceHeal.Elapsed;

        WriteOutcome[] acknowledged = [.. outcomes.Where(o => o.Acknowledged)];
        TimeSpan equal = await WaitUntilReplicasEqualAsync(cluster, acknowledged, sinceHeal);
        int lost = ReadBackFailures(cluster, acknowledged).Count;
        (TimeSpan? repairClean, string repairSummary) = await WaitUntilRepairFindsNothingAsync(cluster, sinceHeal);

        Report(
            $"partition {{n1}}|{{n2,n3}} for {partitionLasted.TotalSeconds:0.0} s: {outcomes.Length} writes, {acknowledged.Length} acknowledged " +
            $"({outcomes.Count(o => o.Node == 0 && o.Acknowledged)} through n1), {outcomes.Count(o => o.Reply.StartsWith("-NOQUORUM", StringComparison.Ordinal))} NOQUORUM, " +
            $"{outcomes.Count(o => o.Reply.StartsWith("timeout", StringComparison.Ordinal))} timeouts; during it n1 saw n2 {n1SeesN2}, n2 saw n1 {n2SeesN1}; " +
            $"after heal: all up in {allUp.TotalSeconds:0.0} s, replicas equal in {equal.TotalSeconds:0.0} s, `dynamite repair` on n1 found nothing at {repairClean?.TotalSeconds:0.0} s ({repairSummary}); lost {lost}; " +
            $"sizes {string.Join("/", LocalSizes(cluster))}");

        Assert.Equal(10000, outcomes.Length);
        Assert.Equal("down", n1SeesN2);
        Assert.Equal("down", n2SeesN1);
        // The minority cannot reach W=2 once it has noticed the partition: no write through n1 was acknowledged after that.
        Assert.DoesNotContain(outcomes, o => o.Node == 0 && o.Acknowledged && o.StartedUtc > partitioned + TimeSpan.FromSeconds(5));
        Assert.True(acknowledged.Length >= 6000, $"only {acknowledged.Length} of 10,000 writes acknowledged; the majority side should take two thirds");
        Assert.Equal(0, lost);
        Assert.True(equal <= ConvergeTimeout, $"replicas took {equal} to become equal");
        Assert.True(repairClean is not null, "repair still finds differences: " + repairSummary);
    }

    [Fact]
    public async Task SigstopN3For15s_UnderLoad_MarkedDownWithin5sUpWithin5sOfSigcontNoWriteLost()
    {
        await using NetnsCluster cluster = await NetnsCluster.StartAsync(extraArguments: ["--aae-interval", "1"]);
        // Keys read back through n1 the moment n3 freezes: a read that asked n3 (its first choice for some
        // partitions) must turn to n2 after the speculative delay instead of waiting out its timeout.
        const int ProbeKeys = 100;
        using (RawRespClient probe = cluster.Connect(0))
        {
            for (int i = 0; i < ProbeKeys; i++)
            {
                Assert.Equal("+OK", probe.Call("SET", $"probe:{i}", $"value-{i}").ToString());
            }
        }

        using var stopLoad = new CancellationTokenSource();
        DateTime started = DateTime.UtcNow;
        // A bounded load (at most 3,000 keys per client, no request after 60 s) that the test stops after the pause.
        // Clients send to all three nodes; one that times out on a node leaves it alone for 5 s, so the load on
        // n1 and n2 goes on through the pause and its latency is what a frozen replica costs a live coordinator.
        Task<WriteOutcome[]> load = KeyWriteLoad.RunAsync(
            cluster, "pause", clients: 5, keysPerClient: 3000, coordinators: [0, 1, 2], TimeSpan.FromMilliseconds(20), timeoutMs: 2000, deadline: started + TimeSpan.FromSeconds(60), avoidAfterTimeout: TimeSpan.FromSeconds(5), stop: stopLoad.Token);
        await Task.Delay(TimeSpan.FromSeconds(5));

        long speculativeBefore = InfoNumber(cluster, 0, "speculative_reads");
        cluster.Pause(2);
        DateTime paused = DateTime.UtcNow;
        Task<int> probing = Task.Run(() =>
        {
            int found = 0;
            using RawRespClient probe = cluster.Connect(0);
            for (int i = 0; i < ProbeKeys; i++)
            {
                found += probe.Call("GET", $"probe:{i}").ToString() == $"$\"value-{i}\"" ? 1 : 0;
            }

            return found;
        });
        TimeSpan down;
        TimeSpan up;
        try
        {
            down = await WaitForHealthAsync(cluster, 2, "down", TimeSpan.FromSeconds(14));
            TimeSpan rest = paused + TimeSpan.FromSeconds(15) - DateTime.UtcNow;
            if (rest > TimeSpan.Zero)
            {
                await Task.Delay(rest);
            }
        }
        finally
        {
            cluster.Resume(2);
        }

        DateTime resumed = DateTime.UtcNow;
        up = await WaitForHealthAsync(cluster, 2, "up", TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(3));
        await stopLoad.CancelAsync();
        WriteOutcome[] outcomes = await load;

        WriteOutcome[] acknowledged = [.. outcomes.Where(o => o.Acknowledged)];
        var sinceResume = Stopwatch.StartNew();
        TimeSpan equal = await WaitUntilReplicasEqualAsync(cluster, acknowledged, sinceResume);
        int lost = ReadBackFailures(cluster, acknowledged).Count;

        WriteOutcome[] before = [.. outcomes.Where(o => o.StartedUtc < paused)];
        WriteOutcome[] during = [.. outcomes.Where(o => o.StartedUtc >= paused && o.StartedUtc < resumed)];
        WriteOutcome[] duringLive = [.. during.Where(o => o.Node != 2)];
        Report(
            $"SIGSTOP n3 for {(resumed - paused).TotalSeconds:0.0} s: marked down by n1 and n2 after {down.TotalSeconds:0.00} s, up after {up.TotalSeconds:0.00} s of SIGCONT; " +
            $"{outcomes.Length} writes, {acknowledged.Length} acknowledged, lost {lost}; replicas equal {equal.TotalSeconds:0.0} s after the load; " +
            $"client p99 before the pause {KeyWriteLoad.Percentile(before, 0.99):0.0} ms ({before.Length} writes); during the pause {KeyWriteLoad.Percentile(during, 0.99):0.0} ms over all " +
            $"{during.Length} writes ({during.Count(o => !o.Acknowledged)} not acknowledged: those sent to the frozen n3 itself time out at the client's 2 s), " +
            $"{KeyWriteLoad.Percentile(duringLive, 0.99):0.0} ms p99 / {KeyWriteLoad.Percentile(duringLive, 0.5):0.0} ms p50 / {duringLive.Select(o => o.LatencyMs).DefaultIfEmpty().Max():0.0} ms max " +
            $"over the {duringLive.Length} sent to n1 and n2 ({duringLive.Count(o => !o.Acknowledged)} not acknowledged)");

        int probesFound = await probing.WaitAsync(TimeSpan.FromSeconds(60));
        long speculative = InfoNumber(cluster, 0, "speculative_reads") - speculativeBefore;
        Report($"{probesFound} of {ProbeKeys} probe keys read through n1 right after SIGSTOP; {speculative} reads turned to a stand-by replica");
        Assert.Equal(ProbeKeys, probesFound);
        Assert.True(speculative >= 1, "no read turned to a stand-by although n3 froze under it");
        Assert.True(down <= DetectionLimit, $"n3 was marked down {down} after SIGSTOP");
        Assert.True(up <= DetectionLimit, $"n3 was marked up {up} after SIGCONT");
        Assert.Equal(0, lost);
        Assert.DoesNotContain(duringLive, o => !o.Acknowledged);
        Assert.True(equal <= ConvergeTimeout, $"replicas took {equal} to become equal");
    }

    [Fact]
    public async Task RandomLoss20PercentIntoN3_WhileWriting_NoAcknowledgedWriteLostAfterRuleRemoved()
    {
        await using NetnsCluster cluster = await NetnsCluster.StartAsync(extraArguments: ["--aae-interval", "1"]);
        await cluster.AddInboundLossAsync(2, 0.2);
        DateTime started = DateTime.UtcNow;
        WriteOutcome[] outcomes = await KeyWriteLoad.RunAsync(
            cluster, "loss", clients: 5, keysPerClient: 400, coordinators: [0, 1, 2], TimeSpan.FromMilliseconds(20), timeoutMs: 5000, deadline: started + TimeSpan.FromSeconds(40));
        TimeSpan lossLasted = DateTime.UtcNow - started;
        string n1SawN3 = cluster.Health(0, 2);
        await cluster.HealAsync();

        WriteOutcome[] acknowledged = [.. outcomes.Where(o => o.Acknowledged)];
        var sinceHeal = Stopwatch.StartNew();
        TimeSpan equal = await WaitUntilReplicasEqualAsync(cluster, acknowledged, sinceHeal);
        int lost = ReadBackFailures(cluster, acknowledged).Count;
        Report(
            $"20% inbound loss at n3 for {lossLasted.TotalSeconds:0.0} s: {outcomes.Length} writes, {acknowledged.Length} acknowledged " +
            $"({outcomes.Count(o => o.Node == 2 && o.Acknowledged)} through n3), {outcomes.Count(o => o.Reply.StartsWith("timeout", StringComparison.Ordinal))} timeouts; " +
            $"p99 {KeyWriteLoad.Percentile(outcomes, 0.99):0.0} ms (through n3 {KeyWriteLoad.Percentile(outcomes.Where(o => o.Node == 2), 0.99):0.0} ms); n1 saw n3 {n1SawN3} at the end; " +
            $"replicas equal {equal.TotalSeconds:0.0} s after removing the rule; lost {lost}");

        Assert.Equal(2000, outcomes.Length);
        Assert.Equal(0, lost);
        Assert.True(equal <= ConvergeTimeout, $"replicas took {equal} to become equal");
    }

    /// <summary>One number of a node's INFO cluster section (it fails the test when the line is missing).</summary>
    private static long InfoNumber(NetnsCluster cluster, int node, string field)
    {
        string prefix = field + ":";
        string? line = cluster.Info(node).Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        Assert.True(line is not null, $"n{node + 1}'s INFO cluster has no {field}");
        return long.Parse(line![prefix.Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>How long after the call every other node saw node <paramref name="node"/> as <paramref name="health"/> (polled every 100 ms).</summary>
    private static async Task<TimeSpan> WaitForHealthAsync(NetnsCluster cluster, int node, string health, TimeSpan timeout)
    {
        var sinceEvent = Stopwatch.StartNew();
        var seen = new bool[cluster.Count];
        seen[node] = true;
        while (sinceEvent.Elapsed < timeout)
        {
            // Never ask the node itself: a frozen node accepts the connection in the kernel and then answers nothing.
            for (int observer = 0; observer < cluster.Count; observer++)
            {
                seen[observer] |= observer != node && cluster.Health(observer, node) == health;
            }

            if (seen.All(s => s))
            {
                return sinceEvent.Elapsed;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"n{node + 1} was not seen {health} within {timeout}:\n" + string.Join("\n", Enumerable.Range(0, cluster.Count).Select(i => $"--- n{i + 1}\n{cluster.Info(i)}")));
    }

    /// <summary>
    /// Polls until every node stores the same number of keys and holds every acknowledged value itself
    /// (N=3 on three nodes: every node is a replica of every key); returns the time on <paramref name="clock"/>.
    /// </summary>
    private static async Task<TimeSpan> WaitUntilReplicasEqualAsync(NetnsCluster cluster, WriteOutcome[] acknowledged, Stopwatch clock)
    {
        DateTime deadline = DateTime.UtcNow + ConvergeTimeout + TimeSpan.FromSeconds(30);
        string state = "";
        while (DateTime.UtcNow < deadline)
        {
            TimeSpan at = clock.Elapsed;
            long[] sizes = LocalSizes(cluster);
            if (sizes.Distinct().Count() == 1)
            {
                int[] missing = [.. Enumerable.Range(0, cluster.Count).Select(node => MissingLocally(cluster, node, acknowledged))];
                if (missing.All(m => m == 0))
                {
                    return at;
                }

                state = $"sizes {string.Join("/", sizes)}, acknowledged keys missing per node {string.Join("/", missing)}";
            }
            else
            {
                state = $"sizes {string.Join("/", sizes)}";
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"replicas not equal {ConvergeTimeout + TimeSpan.FromSeconds(30)} later: {state}");
    }

    /// <summary>
    /// Runs `dynamite repair` on n1 until a run repairs nothing, and returns when (null if it never did within the
    /// timeout) with the last run's summary. With N=3 on three nodes n1 replicates every partition, so its
    /// exchanges compare every partition's Merkle tree with both other replicas: a clean run means all three equal.
    /// </summary>
    private static async Task<(TimeSpan? At, string Summary)> WaitUntilRepairFindsNothingAsync(NetnsCluster cluster, Stopwatch clock)
    {
        DateTime deadline = DateTime.UtcNow + ConvergeTimeout;
        string summary = "";
        while (DateTime.UtcNow < deadline)
        {
            ExternalTool.Result repair = await cluster.CliAsync(0, "repair");
            // The CLI colours its output and wraps it at the terminal width even without a terminal.
            summary = Regex.Replace(AnsiEscape().Replace(repair.StandardOutput, ""), @"\s+", " ").Trim();
            int lastLine = summary.LastIndexOf("Exchanging partitions", StringComparison.Ordinal);
            summary = lastLine < 0 ? summary : Regex.Replace(summary[lastLine..], @"^Exchanging partitions: [0-9]+% ", "");
            if (repair.ExitCode == 0 && CleanRepair().IsMatch(summary))
            {
                return (clock.Elapsed, summary);
            }

            await Task.Delay(250);
        }

        return (null, summary);
    }

    /// <summary>Acknowledged keys whose value does not read back at R=2, each read through the next node in turn.</summary>
    private static List<string> ReadBackFailures(NetnsCluster cluster, WriteOutcome[] acknowledged)
    {
        var failures = new List<string>();
        for (int node = 0; node < cluster.Count; node++)
        {
            WriteOutcome[] mine = [.. acknowledged.Where((_, i) => i % cluster.Count == node)];
            using RawRespClient client = cluster.Connect(node);
            List<RespValue> replies = Pipeline(client, [.. mine.Select(o => new[] { "GET", o.Key })]);
            failures.AddRange(mine.Zip(replies).Where(p => p.Second.Type != '$' || p.Second.Text != p.First.Value).Select(p => $"{p.First.Key} via n{node + 1}: {p.Second}"));
        }

        return failures;
    }

    private static int MissingLocally(NetnsCluster cluster, int node, WriteOutcome[] acknowledged)
    {
        using RawRespClient client = cluster.Connect(node);
        List<RespValue> replies = Pipeline(client, [.. acknowledged.Select(o => new[] { "DYN.LOCALGET", o.Key })]);
        return acknowledged.Zip(replies).Count(p => p.Second.Type != '$' || p.Second.Text != p.First.Value);
    }

    private static long[] LocalSizes(NetnsCluster cluster) =>
        [.. Enumerable.Range(0, cluster.Count).Select(node =>
        {
            using RawRespClient client = cluster.Connect(node);
            return long.Parse(client.Call("DYN.LOCALDBSIZE").Text!, CultureInfo.InvariantCulture);
        })];

    /// <summary>Sends commands in batches of 500 before reading their replies: 10,000 reads over the bridge in a second, not a minute.</summary>
    private static List<RespValue> Pipeline(RawRespClient client, string[][] commands)
    {
        var replies = new List<RespValue>(commands.Length);
        foreach (string[][] batch in commands.Chunk(500))
        {
            client.SendRaw([.. batch.SelectMany(RawRespClient.Encode)]);
            replies.AddRange(batch.Select(_ => client.Read()));
        }

        return replies;
    }

    private void Report(string line)
    {
        output.WriteLine(line);
        // Also on stderr, which `dotnet test --logger "console;verbosity=normal"` shows for passing tests too.
        Console.Error.WriteLine("[netns] " + line);
    }

    [GeneratedRegex(@"\(0 failed\): 0 differing segments, 0 keys repaired")]
    private static partial Regex CleanRepair();

    [GeneratedRegex(@"\x1b\[[0-9;]*m")]
    private static partial Regex AnsiEscape();
}
