using System.Collections.Concurrent;
using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.Durability;

/// <summary>
/// kill -9 while clients write: after a restart on the same data directory every acknowledged SET is
/// there, with each fsync setting (all of them promise to survive a crash of the process; they differ
/// only for power loss, which a test cannot cause).
/// </summary>
public sealed class CrashRecoveryTests
{
    private const int Writers = 4;

    [Theory]
    [InlineData("rocksdb", "always")]
    [InlineData("rocksdb", "batch")]
    [InlineData("rocksdb", "never")]
    [InlineData("sqlite", "always")]
    [InlineData("sqlite", "batch")]
    [InlineData("sqlite", "never")]
    [InlineData("lmdb", "batch")]
    public async Task KillDashNine_DuringWrites_EveryAcknowledgedSetSurvivesRestart(string engine, string fsync)
    {
        string dataDirectory = Directory.CreateTempSubdirectory("dynamite-crash-").FullName;
        try
        {
            var acknowledged = new ConcurrentDictionary<string, string>();
            int port;
            await using (DynamiteNode node = await DynamiteNode.StartAsync(engine, ["--fsync", fsync], dataDirectory))
            {
                port = node.Port;
                using var stop = new CancellationTokenSource();
                Task[] writers = [.. Enumerable.Range(0, Writers).Select(w => Task.Factory.StartNew(() => Write(node, w, acknowledged, stop.Token), TaskCreationOptions.LongRunning))];

                // Let the writers run until a good number of writes are acknowledged (bounded in time), then crash.
                DateTime deadline = DateTime.UtcNow.AddSeconds(20);
                while (acknowledged.Count < 3000 && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(50);
                }

                await node.KillAsync();
                await stop.CancelAsync();
                await Task.WhenAll(writers);
            }

            Assert.True(acknowledged.Count > 100, $"only {acknowledged.Count} writes were acknowledged before the crash");

            await using DynamiteNode restarted = await DynamiteNode.StartAsync(engine, ["--fsync", fsync], dataDirectory, port);
            using RawRespClient client = restarted.Connect();
            var missing = new List<string>();
            foreach ((string key, string value) in acknowledged)
            {
                if (client.Call("GET", key).ToString() != $"$\"{value}\"")
                {
                    missing.Add(key);
                }
            }

            Assert.True(missing.Count == 0, $"{missing.Count} of {acknowledged.Count} acknowledged writes lost with fsync {fsync}, e.g. {string.Join(", ", missing.Take(5))}");
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Theory]
    [InlineData("rocksdb")]
    [InlineData("sqlite")]
    public async Task KillDashNine_AfterOverwritesAndDeletes_LastAcknowledgedStateSurvives(string engine)
    {
        string dataDirectory = Directory.CreateTempSubdirectory("dynamite-crash-").FullName;
        try
        {
            int port;
            await using (DynamiteNode node = await DynamiteNode.StartAsync(engine, ["--fsync", "always"], dataDirectory))
            {
                port = node.Port;
                using RawRespClient client = node.Connect();
                for (int i = 0; i < 200; i++)
                {
                    Assert.Equal("+OK", client.Call("SET", $"k{i}", "first").ToString());
                }

                for (int i = 0; i < 200; i += 2)
                {
                    Assert.Equal("+OK", client.Call("SET", $"k{i}", "second").ToString());
                }

                for (int i = 0; i < 200; i += 5)
                {
                    Assert.Equal(":1", client.Call("DEL", $"k{i}").ToString());
                }

                Assert.Equal(":6", client.Call("INCRBY", "counter", "6").ToString());
                Assert.Equal(":11", client.Call("APPEND", "log", "hello world").ToString());
                await node.KillAsync();
            }

            await using DynamiteNode restarted = await DynamiteNode.StartAsync(engine, ["--fsync", "always"], dataDirectory, port);
            using RawRespClient reader = restarted.Connect();
            for (int i = 0; i < 200; i++)
            {
                string expected = i % 5 == 0 ? "$(nil)" : i % 2 == 0 ? "$\"second\"" : "$\"first\"";
                Assert.Equal(expected, reader.Call("GET", $"k{i}").ToString());
            }

            Assert.Equal("$\"6\"", reader.Call("GET", "counter").ToString());
            Assert.Equal("$\"hello world\"", reader.Call("GET", "log").ToString());
            Assert.Equal(":162", reader.Call("DBSIZE").ToString());
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    private static void Write(DynamiteNode node, int writer, ConcurrentDictionary<string, string> acknowledged, CancellationToken stop)
    {
        RawRespClient client;
        try
        {
            client = node.Connect();
        }
        catch (System.Net.Sockets.SocketException)
        {
            return; // The node crashed before this writer connected.
        }

        using var connection = client;
        for (int i = 0; !stop.IsCancellationRequested && i < 1_000_000; i++)
        {
            string key = $"w{writer}:k{i}";
            string value = $"value-{writer}-{i}";
            try
            {
                if (client.Call("SET", key, value).ToString() == "+OK")
                {
                    acknowledged[key] = value;
                }
            }
            catch (Exception exception) when (exception is IOException or EndOfStreamException or System.Net.Sockets.SocketException)
            {
                return; // The crash cut the connection: writes without a reply were never acknowledged.
            }
        }
    }
}
