using System.Globalization;
using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.RealClients;

/// <summary>
/// Debian's redis-benchmark, plain and pipelined, against each engine: every test completes with no error
/// reply. This checks correctness under load, not speed (speed is measured by bench/, not by a test).
/// </summary>
public sealed class RedisBenchmarkTests
{
    [Theory]
    [InlineData("memory", "1")]
    [InlineData("memory", "16")]
    [InlineData("rocksdb", "1")]
    [InlineData("rocksdb", "16")]
    public async Task Benchmark_PingSetGetIncrMset_CompletesWithoutErrors(string engine, string pipeline)
    {
        await using DynamiteNode node = await DynamiteNode.StartAsync(engine, null);
        ExternalTool.Result result = await ExternalTool.RunAsync(
            "redis-benchmark",
            ["-p", node.Port.ToString(CultureInfo.InvariantCulture), "-t", "ping,set,get,incr,mset", "-n", "20000", "-r", "10000", "-c", "20", "-P", pipeline, "-q", "--csv"],
            TimeSpan.FromMinutes(3));
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.DoesNotContain("error", result.StandardOutput + result.StandardError, StringComparison.OrdinalIgnoreCase);
        string[] lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        foreach (string test in new[] { "PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "MSET (10 keys)" })
        {
            string? line = lines.FirstOrDefault(l => l.StartsWith($"\"{test}\"", StringComparison.Ordinal));
            Assert.True(line is not null, $"no result for {test}:\n{result}");
            double requestsPerSecond = double.Parse(line!.Split(',')[1].Trim('"'), CultureInfo.InvariantCulture);
            Assert.True(requestsPerSecond > 0, line);
        }

        // Every INCR was applied exactly once: the counters redis-benchmark incremented add up to its count.
        using RawRespClient client = node.Connect();
        long total = 0;
        string cursor = "0";
        do
        {
            RespValue page = client.Call("SCAN", cursor, "MATCH", "counter:*", "COUNT", "1000");
            cursor = page.Items![0].Text!;
            foreach (RespValue key in page.Items[1].Items!)
            {
                total += long.Parse(client.Call("GET", key.Text!).Text!, CultureInfo.InvariantCulture);
            }
        }
        while (cursor != "0");
        Assert.Equal(20000, total);
    }
}
