using System.Globalization;
using System.Text.Json;
using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.Bench;

/// <summary>`dynamite bench` against a real node: its JSON adds up and its writes really land.</summary>
public sealed class BenchCommandTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task Bench_SetThenGet_ReportsEveryRequest_AndWritesTheKeys()
    {
        await using DynamiteNode node = await DynamiteNode.StartAsync("memory");
        string target = $"127.0.0.1:{node.Port}";

        using JsonDocument set = await BenchAsync(["--targets", target, "--requests", "2000", "--connections", "4", "--pipeline", "4", "--keyspace", "500", "--test", "set", "--json"]);
        JsonElement result = set.RootElement;
        Assert.Equal(2000, result.GetProperty("requests").GetInt64());
        Assert.Equal(0, result.GetProperty("errors").GetInt64());
        Assert.Equal(2000, result.GetProperty("writes").GetInt64());
        Assert.Equal(0, result.GetProperty("reads").GetInt64());
        AssertOrderedLatencies(result);
        Assert.True(result.GetProperty("requestsPerSecond").GetDouble() > 0, set.RootElement.ToString());
        Assert.Equal(4, result.GetProperty("connections").GetInt32());
        Assert.Equal(target, result.GetProperty("targets")[0].GetString());

        // 2000 random SETs over 500 keys leave nearly all of them (all but about 500 * e^-4 ≈ 9).
        using RawRespClient client = node.Connect();
        long keys = long.Parse(client.Call("DBSIZE").Text!, CultureInfo.InvariantCulture);
        Assert.InRange(keys, 400, 500);
        RespValue some = client.Call("SCAN", "0", "COUNT", "1000");
        string key = some.Items![1].Items![0].Text!;
        Assert.Matches("^key:[0-9]{12}$", key);
        Assert.Equal(new string('x', 100), client.Call("GET", key).Text);

        // Large values, populated first, then read: every key exists, so every GET is a 139 KB bulk reply.
        using JsonDocument get = await BenchAsync(["--targets", target, "--requests", "300", "--connections", "3", "--keyspace", "20", "--value-size", "139000", "--populate", "--test", "get", "--json"]);
        Assert.Equal(300, get.RootElement.GetProperty("requests").GetInt64());
        Assert.Equal(0, get.RootElement.GetProperty("errors").GetInt64());
        Assert.Equal(300, get.RootElement.GetProperty("reads").GetInt64());
        AssertOrderedLatencies(get.RootElement);
        Assert.Equal(139_000, client.Call("STRLEN", "key:000000000019").Text is { } length ? int.Parse(length, CultureInfo.InvariantCulture) : -1);
    }

    [Fact]
    public async Task Bench_Cluster_RoutesEachKeyToItsSlotsNode_ASharePerNode()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        long[] before = [.. Enumerable.Range(0, 3).Select(i => CommandsProcessed(cluster, i))];

        using JsonDocument run = await BenchAsync(["--targets", $"127.0.0.1:{cluster[0].Port}", "--cluster", "--requests", "3000", "--connections", "6", "--test", "set", "--json"]);

        Assert.Equal(3000, run.RootElement.GetProperty("requests").GetInt64());
        Assert.Equal(0, run.RootElement.GetProperty("errors").GetInt64());
        long[] served = [.. Enumerable.Range(0, 3).Select(i => CommandsProcessed(cluster, i) - before[i])];
        Assert.All(served, count => Assert.InRange(count, 750, 1260));
    }

    [Fact]
    public async Task Bench_Cluster_AgainstAStandaloneNode_FailsWithAClearMessage()
    {
        await using DynamiteNode node = await DynamiteNode.StartAsync("memory");
        ExternalTool.Result result = await ExternalTool.RunAsync(
            "dotnet", [RepositoryPaths.DynamiteDll, "bench", "--targets", $"127.0.0.1:{node.Port}", "--cluster", "--requests", "10"], Timeout);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("--cluster: CLUSTER NODES answered -ERR This instance has cluster support disabled", result.StandardError, StringComparison.Ordinal);
    }

    private static long CommandsProcessed(LocalCluster cluster, int index)
    {
        using RawRespClient client = cluster.Connect(index);
        string stats = client.Call("INFO", "stats").Text!;
        string line = stats.Split("\r\n").Single(l => l.StartsWith("total_commands_processed:", StringComparison.Ordinal));
        return long.Parse(line["total_commands_processed:".Length..], CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Bench_ErrorReplies_AreCounted_NotFatal()
    {
        await using DynamiteNode node = await DynamiteNode.StartAsync("memory", ["--requirepass", "secret"]);
        using JsonDocument document = await BenchAsync(["--targets", $"127.0.0.1:{node.Port}", "--requests", "200", "--connections", "2", "--json"]);
        Assert.Equal(200, document.RootElement.GetProperty("requests").GetInt64());
        Assert.Equal(200, document.RootElement.GetProperty("errors").GetInt64());
        Assert.StartsWith("NOAUTH", document.RootElement.GetProperty("firstError").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bench_NobodyListening_FailsWithAClearMessage()
    {
        int port = FreePort.Next();
        ExternalTool.Result result = await ExternalTool.RunAsync(
            "dotnet", [RepositoryPaths.DynamiteDll, "bench", "--targets", $"127.0.0.1:{port}", "--requests", "10"], Timeout);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"cannot connect to 127.0.0.1:{port}", result.StandardError, StringComparison.Ordinal);
    }

    private static void AssertOrderedLatencies(JsonElement result)
    {
        double p50 = result.GetProperty("p50Ms").GetDouble();
        double p90 = result.GetProperty("p90Ms").GetDouble();
        double p99 = result.GetProperty("p99Ms").GetDouble();
        double p999 = result.GetProperty("p999Ms").GetDouble();
        double max = result.GetProperty("maxMs").GetDouble();
        Assert.True(p50 > 0 && p50 <= p90 && p90 <= p99 && p99 <= p999 && p999 <= max, result.ToString());
    }

    private static async Task<JsonDocument> BenchAsync(IEnumerable<string> arguments)
    {
        ExternalTool.Result result = await ExternalTool.RunAsync("dotnet", [RepositoryPaths.DynamiteDll, "bench", .. arguments], Timeout);
        Assert.True(result.ExitCode == 0, result.ToString());
        return JsonDocument.Parse(result.StandardOutput);
    }
}
