using Dynamite.Cluster.Local;
using Dynamite.Core.Partitioning;
using Dynamite.Protocols.Tests.Infrastructure;
using Dynamite.Storage.Memory;
using Xunit;

namespace Dynamite.Protocols.Tests.Transactions;

/// <summary>
/// EXEC is isolated from other clients' commands, as on redis-server: over a store whose every operation waits (so a
/// command of another client would land between two of the transaction's if it could), a reader never sees half a
/// transaction, and a blocked BLPOP does not keep a transaction waiting.
/// </summary>
[Collection(ProcessMeasurementCollection.Name)]
public sealed class IsolationTests
{
    private static string Command(params string[] arguments) => RespText.Command(arguments);

    [Fact]
    public async Task AReaderNeverSeesHalfATransaction()
    {
        var store = new GatedStore(_ => Task.Delay(2));
        store.Seed("a", "10");
        store.Seed("b", "10");
        await using var writer = RespTestConnection.Start(store);
        await using var reader = RespTestConnection.StartBeside(writer);

        const int transactions = 20;
        Task writing = Task.Run(async () =>
        {
            for (int i = 1; i <= transactions; i++)
            {
                await writer.SendAsync(Command("MULTI") + Command("INCR", "a") + Command("INCR", "b") + Command("EXEC"));
                string expected = $"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:{10 + i}\r\n:{10 + i}\r\n";
                Assert.Equal(expected, await writer.ReceiveAsync(expected));
            }
        });

        var seen = new List<string>();
        while (!writing.IsCompleted && seen.Count < 1_000)
        {
            await reader.SendAsync(Command("MGET", "a", "b"));
            // Two two-digit values: 10 to 30.
            seen.Add(await reader.ReceiveAsync("*2\r\n$2\r\nNN\r\n$2\r\nNN\r\n"));
        }

        await writing;
        Assert.NotEmpty(seen);
        Assert.All(seen, reply =>
        {
            string[] lines = reply.Split("\r\n");
            Assert.Equal(lines[2], lines[4]);
        });
        Assert.Equal("30", store.Value("a"));
        Assert.Equal("30", store.Value("b"));
    }

    [Fact]
    public async Task ABlockedPopLetsATransactionRun_AndTakesWhatItPushed()
    {
        await using var engine = new MemoryStorageEngine(new KeyPartitioner(4));
        var store = new LocalKeyValueStore(engine, TimeProvider.System);
        await using var blocked = RespTestConnection.Start(store);
        await using var writer = RespTestConnection.StartBeside(blocked);
        engine.ChangeListener = blocked.Server.BlockedClients;

        await blocked.SendAsync(Command("BLPOP", "queue", "5"));
        await Task.Delay(100);
        await writer.SendAsync(Command("MULTI") + Command("SET", "x", "1") + Command("RPUSH", "queue", "job") + Command("EXEC"));

        const string executed = "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n:1\r\n";
        Assert.Equal(executed, await writer.ReceiveAsync(executed));
        const string popped = "*2\r\n$5\r\nqueue\r\n$3\r\njob\r\n";
        Assert.Equal(popped, await blocked.ReceiveAsync(popped));
    }
}
