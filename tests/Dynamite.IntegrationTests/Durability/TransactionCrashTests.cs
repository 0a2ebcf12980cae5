using System.Globalization;
using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.Durability;

/// <summary>
/// kill -9 while clients run transactions or scripts on a single node: after a restart each is there whole or not at all
/// (its writes are one storage commit), and every acknowledged one is there. Each writer's transaction (or script) sets two
/// keys to the same number; without one commit for both, a crash between its two writes leaves them different.
/// </summary>
public sealed class TransactionCrashTests
{
    private const int Writers = 4;

    private const string SetBoth = "redis.call('SET', KEYS[1], ARGV[1]) redis.call('SET', KEYS[2], ARGV[1]) return 1";

    [Theory]
    [InlineData("rocksdb", false)]
    [InlineData("sqlite", false)]
    [InlineData("lmdb", false)]
    [InlineData("rocksdb", true)]
    public async Task KillDashNine_DuringTransactionsOrScripts_EachIsStoredWholeOrNotAtAll(string engine, bool script)
    {
        string dataDirectory = Directory.CreateTempSubdirectory("dynamite-exec-crash-").FullName;
        try
        {
            long[] acknowledged = new long[Writers];
            int port;
            await using (DynamiteNode node = await DynamiteNode.StartAsync(engine, ["--fsync", "batch"], dataDirectory))
            {
                port = node.Port;
                using var stop = new CancellationTokenSource();
                Task[] writers = [.. Enumerable.Range(0, Writers).Select(w => Task.Factory.StartNew(() => Write(node, w, script, acknowledged, stop.Token), TaskCreationOptions.LongRunning))];

                DateTime deadline = DateTime.UtcNow.AddSeconds(20);
                while (acknowledged.Sum() < 1500 && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(50);
                }

                await node.KillAsync();
                await stop.CancelAsync();
                await Task.WhenAll(writers);
            }

            Assert.True(acknowledged.Sum() > 100, $"only {acknowledged.Sum()} transactions were acknowledged before the crash");

            await using DynamiteNode restarted = await DynamiteNode.StartAsync(engine, ["--fsync", "batch"], dataDirectory, port);
            using RawRespClient client = restarted.Connect();
            for (int w = 0; w < Writers; w++)
            {
                string x = client.Call("GET", $"{{w{w}}}:x").ToString();
                string y = client.Call("GET", $"{{w{w}}}:y").ToString();
                Assert.True(x == y, $"writer {w}: x is {x} and y is {y} after the crash: a transaction was stored in part");
                long stored = x == "$(nil)" ? 0 : long.Parse(x.Trim('$', '"'), CultureInfo.InvariantCulture);
                Assert.True(stored >= acknowledged[w], $"writer {w}: transaction {acknowledged[w]} was acknowledged, {stored} is stored");
            }
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    private static void Write(DynamiteNode node, int writer, bool script, long[] acknowledged, CancellationToken stop)
    {
        RawRespClient client;
        try
        {
            client = node.Connect();
        }
        catch (System.Net.Sockets.SocketException)
        {
            return;
        }

        using var connection = client;
        for (long i = 1; !stop.IsCancellationRequested && i < 1_000_000; i++)
        {
            string number = i.ToString(CultureInfo.InvariantCulture);
            try
            {
                if (script)
                {
                    if (client.Call("EVAL", SetBoth, "2", $"{{w{writer}}}:x", $"{{w{writer}}}:y", number).ToString() == ":1")
                    {
                        Volatile.Write(ref acknowledged[writer], i);
                    }

                    continue;
                }

                // One write, as clients pipeline a transaction: MULTI, the two SETs, EXEC.
                client.SendRaw([.. RawRespClient.Encode("MULTI"), .. RawRespClient.Encode("SET", $"{{w{writer}}}:x", number),
                    .. RawRespClient.Encode("SET", $"{{w{writer}}}:y", number), .. RawRespClient.Encode("EXEC")]);
                for (int reply = 0; reply < 3; reply++)
                {
                    client.Read();
                }

                if (client.Read().ToString().StartsWith('*'))
                {
                    Volatile.Write(ref acknowledged[writer], i);
                }
            }
            catch (Exception exception) when (exception is IOException or EndOfStreamException or System.Net.Sockets.SocketException)
            {
                return;
            }
        }
    }
}
