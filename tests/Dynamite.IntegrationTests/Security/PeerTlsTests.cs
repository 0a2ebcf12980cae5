using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Dynamite.IntegrationTests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace Dynamite.IntegrationTests.Security;

/// <summary>
/// Mutual TLS between peers (<c>--peer-tls on</c>) with certificates from <c>dynamite certs</c>: a cluster of node
/// certificates serves and replicates, and unchanged clients (redis-cli, StackExchange.Redis, redis-py's RedisCluster,
/// ioredis' Cluster) use it over TLS; a node whose certificate another CA signed, and a node without TLS, are refused
/// and get no data; node certificates and the CA are replaced while <c>dynamite bench</c> runs, without a failed request.
/// </summary>
public sealed class PeerTlsTests
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task PeerTls_NodesOfTheCaReplicate_ANodeOfAnotherCaAndAPlainNodeAreRefusedAndGetNoData()
    {
        using var directory = new TemporaryDirectory();
        string ca = await MakeAuthorityAsync(directory.Path, "test");
        foreach (string node in new[] { "n1", "n2", "n3" })
        {
            await IssueAsync(directory.Path, node);
        }

        await CertsAsync(["issue", "app", "--client", "--dir", directory.Path]);
        using var strangers = new TemporaryDirectory();
        await MakeAuthorityAsync(strangers.Path, "test");
        await IssueAsync(strangers.Path, "n4");

        int[] tlsPorts = [FreePort.Next(), FreePort.Next(), FreePort.Next()];
        await using LocalCluster cluster = await LocalCluster.StartAsync(
            spares: 2,
            nodeArguments: index => index switch
            {
                < 3 => ["--peer-tls", "on", "--tls-port", tlsPorts[index].ToString(CultureInfo.InvariantCulture), .. NodeCertificate(directory.Path, $"n{index + 1}", ca)],
                3 => ["--peer-tls", "on", .. NodeCertificate(strangers.Path, "n4", Path.Combine(strangers.Path, "ca.pem"))],
                _ => [],
            });
        using (RawRespClient first = cluster.Connect(0))
        {
            Assert.Equal("+OK", first.Call("SET", "over-tls", "1").ToString());
        }

        using (RawRespClient third = cluster.Connect(2))
        {
            Assert.Equal("1", third.Call("GET", "over-tls").Text);
        }

        await ClientsOverTlsAsync(directory.Path, ca, tlsPorts);

        // n4 has a node certificate of another CA (same cluster name); n5 speaks the peer protocol without TLS.
        await cluster.StartSpareAsync(3);
        await cluster.StartSpareAsync(4);
        await WaitUntilAsync(() => cluster[0].Output.Contains("Refused peer TLS connection", StringComparison.Ordinal)
            && CountOf(cluster[0].Output + cluster[1].Output + cluster[2].Output, "Refused peer TLS connection") >= 2);
        using (RawRespClient first = cluster.Connect(0))
        {
            for (int i = 0; i < 50; i++)
            {
                Assert.Equal("+OK", first.Call("SET", $"k{i}", "v").ToString());
            }
        }

        await Task.Delay(TimeSpan.FromSeconds(2));
        foreach (int refused in new[] { 3, 4 })
        {
            using RawRespClient client = cluster.Connect(refused);
            Assert.Empty(client.Call("KEYS", "*").Items!);
            Assert.DoesNotContain("peer_n1", cluster.Info(refused), StringComparison.Ordinal);
        }

        for (int member = 0; member < 3; member++)
        {
            string info = cluster.Info(member);
            Assert.DoesNotContain("peer_n4", info, StringComparison.Ordinal);
            Assert.DoesNotContain("peer_n5", info, StringComparison.Ordinal);
        }

        string logs = cluster[0].Output + cluster[1].Output + cluster[2].Output;
        Assert.Contains("not trusted", logs, StringComparison.Ordinal);
        Assert.Contains("no TLS handshake", logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NodeCertificatesAndTheCa_ReplacedUnderBenchLoad_NoRequestFails_AndTheOldCaIsThenRefused()
    {
        using var directory = new TemporaryDirectory();
        string oldAuthority = Path.Combine(directory.Path, "old");
        string newAuthority = Path.Combine(directory.Path, "new");
        string trusted = Path.Combine(directory.Path, "trusted-cas.pem");
        await MakeAuthorityAsync(oldAuthority, "test");
        await MakeAuthorityAsync(newAuthority, "test");
        foreach (string node in new[] { "n1", "n2", "n3", "n4" })
        {
            await IssueAsync(oldAuthority, node);
            await IssueAsync(newAuthority, node);
        }

        // Each node reads its own copies, which the rotation replaces.
        File.Copy(Path.Combine(oldAuthority, "ca.pem"), trusted);
        for (int node = 1; node <= 3; node++)
        {
            File.Copy(Path.Combine(oldAuthority, $"n{node}.pem"), Path.Combine(directory.Path, $"n{node}.pem"));
            File.Copy(Path.Combine(oldAuthority, $"n{node}.key"), Path.Combine(directory.Path, $"n{node}.key"));
        }

        await using LocalCluster cluster = await LocalCluster.StartAsync(
            extraArguments: ["--peer-tls", "on"], spares: 1,
            nodeArguments: index => index < 3
                ? NodeCertificate(directory.Path, $"n{index + 1}", trusted)
                : NodeCertificate(oldAuthority, "n4", Path.Combine(oldAuthority, "ca.pem")));

        string targets = string.Join(",", Enumerable.Range(0, 3).Select(i => $"127.0.0.1:{cluster[i].Port}"));
        Task<ExternalTool.Result> bench = ExternalTool.RunAsync("dotnet",
            [RepositoryPaths.DynamiteDll, "bench", "--targets", targets, "--duration", "16", "--connections", "6", "--keyspace", "2000", "--test", "mixed", "--json"],
            TimeSpan.FromSeconds(90));
        await Task.Delay(TimeSpan.FromSeconds(2));

        // 1. Trust the new CA beside the old one; 2. every node gets a certificate of the new CA; 3. the old CA goes.
        await ReplaceAsync(trusted, await File.ReadAllTextAsync(Path.Combine(oldAuthority, "ca.pem")) + await File.ReadAllTextAsync(Path.Combine(newAuthority, "ca.pem")));
        await Task.Delay(TimeSpan.FromSeconds(3));
        for (int node = 1; node <= 3; node++)
        {
            await ReplaceAsync(Path.Combine(directory.Path, $"n{node}.key"), await File.ReadAllTextAsync(Path.Combine(newAuthority, $"n{node}.key")));
            await ReplaceAsync(Path.Combine(directory.Path, $"n{node}.pem"), await File.ReadAllTextAsync(Path.Combine(newAuthority, $"n{node}.pem")));
        }

        await Task.Delay(TimeSpan.FromSeconds(4));
        await ReplaceAsync(trusted, await File.ReadAllTextAsync(Path.Combine(newAuthority, "ca.pem")));

        ExternalTool.Result result = await bench;
        Assert.True(result.ExitCode == 0, result.ToString());
        using JsonDocument report = JsonDocument.Parse(result.StandardOutput);
        Assert.True(report.RootElement.GetProperty("requests").GetInt64() > 1000, result.StandardOutput);
        Assert.True(report.RootElement.GetProperty("errors").GetInt64() == 0, result.StandardOutput + "\n--- n1\n" + cluster[0].Output);

        string logs = cluster[0].Output + cluster[1].Output + cluster[2].Output;
        Assert.Contains("so it sees this node's new certificate", logs, StringComparison.Ordinal);
        await cluster.WaitUntilAllSeeEachOtherAsync();
        using (RawRespClient first = cluster.Connect(0))
        {
            Assert.Equal("+OK", first.Call("SET", "after-rotation", "1").ToString());
        }

        using (RawRespClient second = cluster.Connect(1))
        {
            Assert.Equal("1", second.Call("GET", "after-rotation").Text);
        }

        // A node that still has a certificate of the old CA is no longer let in.
        await cluster.StartSpareAsync(3);
        await WaitUntilAsync(() => (cluster[0].Output + cluster[1].Output + cluster[2].Output).Contains("Refused peer TLS connection", StringComparison.Ordinal));
        Assert.DoesNotContain("peer_n4", cluster.Info(0), StringComparison.Ordinal);
    }

    /// <summary>redis-cli, StackExchange.Redis, redis-py's RedisCluster and ioredis' Cluster over TLS, with the application's client certificate.</summary>
    private static async Task ClientsOverTlsAsync(string directory, string ca, int[] tlsPorts)
    {
        string certificate = Path.Combine(directory, "app.pem");
        string key = Path.Combine(directory, "app.key");
        string[] tls = ["--tls", "--cert", certificate, "--key", key, "--cacert", ca];
        string port3 = tlsPorts[2].ToString(CultureInfo.InvariantCulture);
        ExternalTool.Result cli = await ExternalTool.RunAsync("redis-cli", [.. tls, "-p", port3, "GET", "over-tls"], ToolTimeout);
        Assert.True(cli.StandardOutput.Trim() == "1", cli.ToString());
        ExternalTool.Result slots = await ExternalTool.RunAsync("redis-cli", [.. tls, "-p", port3, "CLUSTER", "SLOTS"], ToolTimeout);
        Assert.Contains(tlsPorts[0].ToString(CultureInfo.InvariantCulture), slots.StandardOutput, StringComparison.Ordinal);

        // StackExchange.Redis, unchanged: given one TLS endpoint, it finds the other nodes' TLS ports and uses all three.
        var options = new ConfigurationOptions { Ssl = true, SslHost = "localhost", AbortOnConnectFail = true, ConnectTimeout = 15000 };
        options.EndPoints.Add("127.0.0.1", tlsPorts[0]);
        using X509Certificate2 clientPair = X509Certificate2.CreateFromPemFile(certificate, key);
        using X509Certificate2 authority = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(ca));
        options.CertificateSelection += (_, _, _, _, _) => clientPair;
        options.CertificateValidation += (_, presented, _, _) => TestCertificates.Chains(presented, authority);
        ConnectionMultiplexer redis = await ConnectionMultiplexer.ConnectAsync(options);
        try
        {
            IDatabase database = redis.GetDatabase();
            for (int i = 0; i < 30; i++)
            {
                Assert.True(await database.StringSetAsync($"se:{i}", i));
            }

            for (int i = 0; i < 30; i++)
            {
                Assert.Equal(i, (int)await database.StringGetAsync($"se:{i}"));
            }

            Assert.Equal(tlsPorts.Order(), redis.GetEndPoints().Cast<IPEndPoint>().Select(e => e.Port).Order());
        }
        finally
        {
            await Task.Run(redis.Dispose);
        }

        string script = $$"""
            import sys
            from redis.cluster import RedisCluster
            rc = RedisCluster(host="127.0.0.1", port={{tlsPorts[1]}}, ssl=True, ssl_certfile=sys.argv[1], ssl_keyfile=sys.argv[2], ssl_ca_certs=sys.argv[3],
                              ssl_check_hostname=False, decode_responses=True)
            for i in range(50):
                rc.set(f"py:{i}", str(i))
            assert all(rc.get(f"py:{i}") == str(i) for i in range(50))
            print("OK", ",".join(sorted(str(n.port) for n in rc.get_nodes())))
            """;
        string path = Path.Combine(directory, "cluster_tls.py");
        await File.WriteAllTextAsync(path, script);
        ExternalTool.Result python = await ExternalTool.RunAsync("/usr/bin/python3", [path, certificate, key, ca], ToolTimeout);
        string expectedPorts = string.Join(",", tlsPorts.Select(p => p.ToString(CultureInfo.InvariantCulture)).Order(StringComparer.Ordinal));
        Assert.True(python.ExitCode == 0 && python.StandardOutput.Trim() == "OK " + expectedPorts, python.ToString());

        string scripts = Path.Combine(RepositoryPaths.Root, "tests", "Dynamite.IntegrationTests", "Node");
        ExternalTool.Result ioredis = await ExternalTool.RunAsync(
            "node", [Path.Combine(scripts, "ioredis_tls_cluster_check.js"), tlsPorts[0].ToString(CultureInfo.InvariantCulture), certificate, key, ca], ToolTimeout);
        Assert.True(ioredis.ExitCode == 0 && ioredis.StandardOutput.Trim() == "OK " + expectedPorts, ioredis.ToString());
    }

    private static string[] NodeCertificate(string directory, string node, string authority) =>
        ["--tls-cert-file", Path.Combine(directory, node + ".pem"), "--tls-key-file", Path.Combine(directory, node + ".key"), "--tls-ca-cert-file", authority];

    /// <summary>Replaces a file at once (rename), as a deployment tool does, so a node never reads half of it.</summary>
    private static async Task ReplaceAsync(string path, string contents)
    {
        string staged = path + ".new";
        await File.WriteAllTextAsync(staged, contents);
        File.Move(staged, path, overwrite: true);
    }

    private static async Task<string> MakeAuthorityAsync(string directory, string cluster)
    {
        await CertsAsync(["init", "--dir", directory, "--cluster", cluster]);
        return Path.Combine(directory, "ca.pem");
    }

    private static Task IssueAsync(string directory, string node) => CertsAsync(["issue", node, "--dir", directory]);

    private static async Task CertsAsync(string[] arguments)
    {
        ExternalTool.Result made = await ExternalTool.RunAsync("dotnet", [RepositoryPaths.DynamiteDll, "certs", .. arguments], ToolTimeout);
        Assert.True(made.ExitCode == 0, made.ToString());
    }

    private static int CountOf(string text, string part)
    {
        int count = 0;
        for (int at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), "timed out waiting");
            await Task.Delay(100);
        }
    }

    private sealed class TemporaryDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("dynamite-peer-tls-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
