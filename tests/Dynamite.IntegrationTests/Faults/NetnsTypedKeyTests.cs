using System.Diagnostics;
using System.Globalization;
using Dynamite.IntegrationTests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Dynamite.IntegrationTests.Faults;

/// <summary>
/// Issue 14's no-lost-update acceptance on three real rocksdb nodes (N=3, R=W=2), each in its own network namespace:
/// three clients, one per node, increment a counter (INCRBY), a hash field (HINCRBY) and add unique members to a set
/// (SADD), first on a healthy cluster, then at W=1 on both sides of a {n1} | {n2, n3} partition of 20 s, with n3
/// killed (kill -9) and restarted before the heal. Every acknowledged update must count on every node: the counters
/// are per-node contributions that merge, and members are add-wins.
/// </summary>
[Collection(NetnsCollection.Name)]
public sealed class NetnsTypedKeyTests(ITestOutputHelper output)
{
    private const int HealthyRounds = 10_000;
    private const int PartitionedRounds = 2_000;
    private static readonly TimeSpan ConvergeTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task IncrementsAndAdds_ThroughEveryNode_NoneLostThroughAPartitionAtW1AndAKill9()
    {
        await using NetnsCluster cluster = await NetnsCluster.StartAsync(engine: "rocksdb");

        Tally[] healthy = await WriteFromEveryNodeAsync(cluster, "healthy", HealthyRounds, consistency: null, TimeSpan.FromMinutes(3));
        Assert.All(healthy, tally => Assert.Equal(HealthyRounds, tally.Acknowledged));
        TimeSpan settled = await WaitUntilEveryNodeReadsAsync(cluster, "healthy", 3 * HealthyRounds, 3 * HealthyRounds);

        await cluster.PartitionAsync([0], [1, 2]);
        var partitioned = Stopwatch.StartNew();
        Tally[] split = await WriteFromEveryNodeAsync(cluster, "split", PartitionedRounds, consistency: "DC_ONE", TimeSpan.FromSeconds(15));
        await cluster.KillAsync(2);
        await cluster.RestartAsync(2);
        TimeSpan remaining = TimeSpan.FromSeconds(20) - partitioned.Elapsed;
        if (remaining > TimeSpan.Zero)
        {
            await Task.Delay(remaining);
        }

        await cluster.HealAsync();
        await cluster.WaitUntilAllSeeEachOtherAsync();
        int acknowledged = split.Sum(t => t.Acknowledged);
        int attempted = split.Sum(t => t.Attempted);
        TimeSpan converged = await WaitUntilEveryNodeReadsAsync(cluster, "split", acknowledged, attempted);
        output.WriteLine(
            $"healthy: 3 x {HealthyRounds} rounds, every node read {3 * HealthyRounds} within {settled.TotalSeconds:0.0} s; " +
            $"partitioned at W=1 for {partitioned.Elapsed.TotalSeconds:0.0} s: {attempted} rounds, {acknowledged} acknowledged " +
            $"({string.Join("/", split.Select(t => t.Acknowledged))} through n1/n2/n3), n3 killed and restarted; every node read them within {converged.TotalSeconds:0.0} s of the heal");
        Assert.True(acknowledged >= PartitionedRounds, $"only {acknowledged} rounds acknowledged during the partition");
    }

    /// <summary>One client per node, each sending up to <paramref name="rounds"/> rounds of INCRBY, HINCRBY and SADD of a member of its own.</summary>
    private static async Task<Tally[]> WriteFromEveryNodeAsync(NetnsCluster cluster, string prefix, int rounds, string? consistency, TimeSpan limit)
    {
        Task<Tally>[] clients = [.. Enumerable.Range(0, cluster.Count).Select(node => Task.Run(() =>
        {
            using RawRespClient client = cluster.Connect(node, timeoutMs: 5000);
            if (consistency is not null)
            {
                Assert.Equal("+OK", client.Call("DYN.CONSISTENCY", consistency).ToString());
            }

            var tally = new Tally();
            var elapsed = Stopwatch.StartNew();
            for (int i = 0; i < rounds && elapsed.Elapsed < limit; i++)
            {
                tally.Attempted++;
                RespValue counted = client.Call("INCRBY", $"{prefix}:counter", "1");
                RespValue field = client.Call("HINCRBY", $"{prefix}:hash", "field", "1");
                RespValue added = client.Call("SADD", $"{prefix}:set", $"n{node + 1}-{i}");
                if (counted.Type == ':' && field.Type == ':' && added.ToString() == ":1")
                {
                    tally.Acknowledged++;
                }
            }

            return tally;
        }))];
        return await Task.WhenAll(clients);
    }

    /// <summary>
    /// Waits until every node, read alone (R=1) and by quorum, answers a count between <paramref name="atLeast"/> (the
    /// acknowledged rounds) and <paramref name="atMost"/> (the attempted ones) for the counter, the hash field and the
    /// set, all three equal; fails after <see cref="ConvergeTimeout"/> with what each node last answered.
    /// </summary>
    private static async Task<TimeSpan> WaitUntilEveryNodeReadsAsync(NetnsCluster cluster, string prefix, int atLeast, int atMost)
    {
        var waited = Stopwatch.StartNew();
        string last = "";
        while (true)
        {
            var answers = new List<string>();
            bool converged = true;
            for (int node = 0; node < cluster.Count; node++)
            {
                foreach (string consistency in new[] { "DC_ONE", "DEFAULT" })
                {
                    using RawRespClient client = cluster.Connect(node, timeoutMs: 5000);
                    client.Call("DYN.CONSISTENCY", consistency);
                    string counter = client.Call("GET", $"{prefix}:counter").Text ?? "0";
                    string field = client.Call("HGET", $"{prefix}:hash", "field").Text ?? "0";
                    string members = client.Call("SCARD", $"{prefix}:set").Text ?? "0";
                    answers.Add($"n{node + 1} {consistency}: {counter}/{field}/{members}");
                    long count = long.Parse(counter, CultureInfo.InvariantCulture);
                    converged &= count >= atLeast && count <= atMost && counter == field && field == members;
                }
            }

            last = string.Join("; ", answers);
            if (converged)
            {
                return waited.Elapsed;
            }

            Assert.True(waited.Elapsed < ConvergeTimeout, $"after {waited.Elapsed.TotalSeconds:0} s, expected {atLeast}..{atMost} everywhere: {last}");
            await Task.Delay(500);
        }
    }

    private sealed class Tally
    {
        public int Attempted { get; set; }

        public int Acknowledged { get; set; }
    }
}
