using System.Globalization;
using System.Text.Json;
using Dynamite.IntegrationTests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Dynamite.IntegrationTests.Metrics;

/// <summary>
/// <c>GET /metrics</c> on the admin port of real nodes: the exposition passes Debian's <c>promtool check metrics</c>,
/// agrees with INFO and the admin status (one source), and a real Prometheus server scraping a node counts exactly
/// the GETs a client sent.
/// </summary>
public sealed class MetricsEndpointTests(ITestOutputHelper output)
{
    private const string ReadCount = "dynamite_resp_command_duration_seconds_count";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Metrics_ClusterNodeAfterTraffic_PassesPromtoolAndAgreesWithInfoAndStatus()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        using (RawRespClient node1 = cluster.Connect(0))
        {
            for (int i = 0; i < 50; i++)
            {
                Assert.Equal("+OK", node1.Call("SET", $"metrics:{i}", "v").ToString());
            }

            for (int i = 0; i < 50; i++)
            {
                Assert.Equal("$\"v\"", node1.Call("GET", $"metrics:{i}").ToString());
            }
        }

        string exposition = await MetricsExposition.GetAsync(cluster[0].HttpPort, "/metrics");
        ExternalTool.Result promtool = await ExternalTool.RunAsync("promtool", ["check", "metrics"], Timeout, exposition);
        output.WriteLine($"promtool check metrics: {promtool}");
        Assert.True(promtool.ExitCode == 0, $"promtool rejected /metrics: {promtool}\n{exposition}");

        List<MetricsExposition.Sample> samples = MetricsExposition.Parse(exposition);
        Assert.Equal(50, MetricsExposition.Value(samples, ReadCount, ("family", "write")));
        Assert.Equal(50, MetricsExposition.Value(samples, ReadCount, ("family", "read")));
        Assert.True(MetricsExposition.Value(samples, "dynamite_replica_request_duration_seconds_count", ("op", "write"), ("outcome", "ok"), ("peer", "n2")) >= 1);
        // The memory engine's writes are not timed (MemoryStorageEngine says why); durable engines' are (EngineMetricsTests).
        Assert.DoesNotContain(samples, s => s.Name.StartsWith("dynamite_storage_operation_duration", StringComparison.Ordinal));
        Assert.Equal(50, MetricsExposition.Value(samples, "dynamite_storage_keys", ("store", "data")));
        Assert.Contains(samples, s => s.Name == "dynamite_resp_clients_connected");
        Assert.Contains(samples, s => s.Name == "dynamite_aae_tree_size_bytes");

        // INFO and /v1/cluster read the same instruments.
        using RawRespClient client = cluster.Connect(0);
        string stats = client.Call("INFO", "stats").Text!;
        Assert.Contains("command_family_write:calls=50,", stats, StringComparison.Ordinal);
        Assert.Contains("command_family_read:calls=50,", stats, StringComparison.Ordinal);
        Assert.Equal(MetricsExposition.Value(samples, "dynamite_aae_tree_size_bytes"), cluster.InfoNumber(0, "aae_tree_bytes"));
        using JsonDocument status = JsonDocument.Parse(await MetricsExposition.GetAsync(cluster[0].HttpPort, "/v1/cluster"));
        Assert.Equal(50, status.RootElement.GetProperty("localKeys").GetInt64());
    }

    [Fact]
    public async Task Prometheus_ScrapingANode_CountsExactlyTheGetsSent()
    {
        const int Gets = 300;
        string series = $"{ReadCount}{{job=\"dynamite\",family=\"read\"}}";
        await using DynamiteNode node = await DynamiteNode.StartAsync();
        await using PrometheusServer prometheus = await PrometheusServer.StartAsync([node.HttpPort]);
        await prometheus.WaitForAsync("up{job=\"dynamite\"}", up => up == 1, Timeout);

        // One GET first, so the series exists (at 1) before the ones counted: increase() needs a sample before them.
        using RawRespClient client = node.Connect();
        Assert.Equal("$(nil)", client.Call("GET", "missing").ToString());
        await prometheus.WaitForAsync(series, value => value == 1, Timeout);

        for (int i = 0; i < Gets; i++)
        {
            Assert.Equal("$(nil)", client.Call("GET", $"missing:{i}").ToString());
        }

        // The last scraped value is exact.
        double last = await prometheus.WaitForAsync(series, value => value >= Gets + 1, Timeout);
        Assert.Equal(Gets + 1, last);

        // What Prometheus stored over the window rose by exactly the GETs sent.
        double stored = (await prometheus.QueryAsync($"max_over_time({series}[30s]) - min_over_time({series}[30s])"))!.Value;

        // increase() and rate() extrapolate toward the window's edges: by up to 1.1 average scrape intervals at each end
        // when a sample is that close to it, else half an interval (and not below zero at the start). With the few samples
        // a short run leaves, that can add more than the 1.5x this test once allowed (a CI run read 560 for 300), so
        // they are held to at least the true increase and a bound that only a miscount exceeds.
        double increase = (await prometheus.QueryAsync($"increase({series}[30s])"))!.Value;
        double rate = (await prometheus.QueryAsync($"rate({series}[30s])"))!.Value;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sent {Gets} GETs after 1; Prometheus: last scraped {last}, stored rise {stored}, increase[30s] {increase:0.00}, rate[30s] {rate:0.000}/s"));
        Assert.Equal(Gets, stored);
        Assert.InRange(increase, Gets - 0.001, Gets * 3.5);
        Assert.InRange(rate * 30, Gets - 0.5, Gets * 3.5);
    }
}
