using Dynamite.Protocols.Tests.Infrastructure;
using Xunit;

namespace Dynamite.Protocols.Tests.Server;

/// <summary>
/// <c>maxmemory</c> as redis-server applies it. A limit of one byte puts the node over it whatever it holds, so each test
/// knows the node is over: under <c>noeviction</c> commands that may add memory are refused (and nothing of them is
/// stored) while reads and deletes are served; under an eviction policy the node evicts what the policy allows and
/// announces each key.
/// </summary>
public sealed class MemoryLimitTests : StandaloneNodeTests
{
    private const string OutOfMemory = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";

    [Fact]
    public async Task NoEviction_RefusesWritesThatAddMemory_ServesReadsAndDeletes_AndStoresNothingRefused()
    {
        await Expect("+OK\r\n", "SET", "kept", "1");
        await Expect("+OK\r\n", "SET", "doomed", "1");
        await Expect("+OK\r\n", "CONFIG", "SET", "maxmemory", "1");

        await Expect(OutOfMemory, "SET", "refused", "1");
        await Expect(OutOfMemory, "RPUSH", "list", "a");
        await Expect("$1\r\n1\r\n", "GET", "kept");
        await Expect(":1\r\n", "DEL", "doomed");
        Assert.Contains("maxmemory_policy:noeviction", await Call("INFO", "memory"), StringComparison.Ordinal);

        await Expect("+OK\r\n", "CONFIG", "SET", "maxmemory", "0");
        await Expect(":0\r\n", "EXISTS", "refused");
        await Expect(":0\r\n", "EXISTS", "list");
        await Expect("+OK\r\n", "SET", "refused", "1");
    }

    [Fact]
    public async Task AnEvictionPolicy_EvictsUntilUnderTheLimit_AndAnnouncesEveryKeyEvicted()
    {
        for (int i = 0; i < 10; i++)
        {
            await Expect("+OK\r\n", "SET", $"key{i}", "value");
        }

        await Expect("+OK\r\n", "CONFIG", "SET", "notify-keyspace-events", "Ee");
        await using var subscriber = RespTestConnection.StartBeside(Connection);
        await subscriber.SendAsync(RespText.Command("PSUBSCRIBE", "__keyevent@0__:evicted"));
        await subscriber.ReceiveAsync("*3\r\n$10\r\npsubscribe\r\n$22\r\n__keyevent@0__:evicted\r\n:1\r\n");

        await Expect("+OK\r\n", "CONFIG", "SET", "maxmemory-policy", "allkeys-random");
        await Expect("+OK\r\n", "CONFIG", "SET", "maxmemory", "1");

        // One byte cannot be reached: every key goes, and then a write is refused as under noeviction.
        await Expect(":0\r\n", "DBSIZE");
        var evicted = new HashSet<string>();
        for (int i = 0; i < 10; i++)
        {
            string message = await subscriber.ReceiveAsync("*4\r\n$8\r\npmessage\r\n$22\r\n__keyevent@0__:evicted\r\n$22\r\n__keyevent@0__:evicted\r\n$4\r\nkeyN\r\n");
            evicted.Add(message.Split("\r\n")[^2]);
        }

        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"key{i}").ToHashSet(), evicted);
        Assert.Contains("evicted_keys:10", await Call("INFO", "stats"), StringComparison.Ordinal);
        await Expect(OutOfMemory, "SET", "more", "1");
        await Expect("+OK\r\n", "CONFIG", "SET", "maxmemory", "0");
    }

    [Fact]
    public async Task AVolatilePolicy_EvictsOnlyKeysWithATimeToLive()
    {
        await Expect("+OK\r\n", "SET", "persistent", "1");
        await Expect("+OK\r\n", "SET", "soon", "1", "EX", "100");
        await Expect("+OK\r\n", "SET", "later", "1", "EX", "200");
        await Expect("+OK\r\n", "CONFIG", "SET", "maxmemory-policy", "volatile-ttl");
        await Expect("+OK\r\n", "CONFIG", "SET", "maxmemory", "1");

        await Expect(":1\r\n", "DBSIZE");
        await Expect(":1\r\n", "EXISTS", "persistent");
        await Expect(OutOfMemory, "SET", "more", "1");
        await Expect("+OK\r\n", "CONFIG", "SET", "maxmemory", "0");
    }

    [Fact]
    public async Task ATransactionThatQueuedAWrite_IsAbortedAtExec_AndOneRefusedWhileQueueingFailsItsExec()
    {
        await using var admin = RespTestConnection.StartBeside(Connection);
        await Expect("+OK\r\n", "MULTI");
        await Expect("+QUEUED\r\n", "SET", "x", "1");
        await admin.SendAsync(RespText.Command("CONFIG", "SET", "maxmemory", "1"));
        await admin.ReceiveAsync("+OK\r\n");
        await Expect("-EXECABORT Transaction discarded because of: OOM command not allowed when used memory > 'maxmemory'.\r\n", "EXEC");

        // A read-only transaction runs; inside MULTI any command but EXEC and DISCARD is refused, and EXEC then fails.
        await Expect("+OK\r\n", "MULTI");
        await Expect(OutOfMemory, "GET", "x");
        await Expect("-EXECABORT Transaction discarded because of previous errors.\r\n", "EXEC");

        await admin.SendAsync(RespText.Command("CONFIG", "SET", "maxmemory", "0"));
        await admin.ReceiveAsync("+OK\r\n");
        await Expect(":0\r\n", "EXISTS", "x");
    }

    [Fact]
    public async Task ConfigSetMaxmemoryInsideExec_EvictsAtOnce_WithoutWaitingForTheGateItsTransactionHolds()
    {
        await Expect("+OK\r\n", "SET", "key", "value");
        await Expect("+OK\r\n", "MULTI");
        await Expect("+QUEUED\r\n", "CONFIG", "SET", "maxmemory-policy", "allkeys-random");
        await Expect("+QUEUED\r\n", "CONFIG", "SET", "maxmemory", "1");

        // EXEC holds the isolation gate alone; an eviction queueing for it would wait on its own transaction.
        await Expect("*2\r\n+OK\r\n+OK\r\n", "EXEC");
        await Expect(":0\r\n", "DBSIZE");
        await Expect("+OK\r\n", "CONFIG", "SET", "maxmemory", "0");
    }

    [Fact]
    public async Task AScriptWithoutFlags_MayNotWrite_OneWithAllowOomMay_AndOneDeclaringNoneIsRefused()
    {
        await Expect("+OK\r\n", "CONFIG", "SET", "maxmemory", "1");

        string refused = await Call("EVAL", "return redis.call('set', 'x', '1')", "0");
        Assert.StartsWith("-OOM command not allowed when used memory > 'maxmemory'.", refused, StringComparison.Ordinal);
        await Expect(OutOfMemory, "EVAL", "#!lua\nreturn 1", "0");
        await Expect("+OK\r\n", "EVAL", "#!lua flags=allow-oom\nreturn redis.call('set', 'x', '1')", "0");
        await Expect(":1\r\n", "EVAL", "#!lua flags=no-writes\nreturn 1", "0");

        await Expect("+OK\r\n", "CONFIG", "SET", "maxmemory", "0");
        await Expect("$1\r\n1\r\n", "GET", "x");
    }

    [Fact]
    public async Task AllKeysLru_EvictsTheKeyUsedLongestAgoFirst()
    {
        // A server on the test's clock, so that uses are seconds apart.
        await using var client = RespTestConnection.Start(Store, clock: Clock);
        async Task Expect(string expected, params string[] command)
        {
            await client.SendAsync(RespText.Command(command));
            Assert.Equal(expected, await client.ReceiveAsync(expected));
        }

        await Expect("+OK\r\n", "CONFIG", "SET", "notify-keyspace-events", "Ee");
        await using var subscriber = await SubscribeToEvictionsAsync(client);
        await Expect("+OK\r\n", "CONFIG", "SET", "maxmemory-policy", "allkeys-lru");
        await Expect("+OK\r\n", "CONFIG", "SET", "maxmemory-samples", "64");
        for (int i = 0; i < 5; i++)
        {
            await Expect("+OK\r\n", "SET", $"key{i}", "value");
            Clock.Advance(TimeSpan.FromSeconds(1));
        }

        // key0 was written first but read last; OBJECT reports uses without being one.
        await Expect("$5\r\nvalue\r\n", "GET", "key0");
        Clock.Advance(TimeSpan.FromSeconds(3));
        await Expect(":3\r\n", "OBJECT", "IDLETIME", "key0");
        await Expect(":7\r\n", "OBJECT", "IDLETIME", "key1");
        await Expect(":3\r\n", "OBJECT", "IDLETIME", "key0");

        // Every sampled key is a candidate (5 keys, 64 samples): a limit of one byte evicts them in order of last use.
        await Expect("+OK\r\n", "CONFIG", "SET", "maxmemory", "1");
        Assert.Equal(["key1", "key2", "key3", "key4", "key0"], await EvictedKeysAsync(subscriber, 5));
        await Expect("+OK\r\n", "CONFIG", "SET", "maxmemory", "0");
    }

    [Fact]
    public async Task AllKeysLfu_EvictsTheKeyUsedLeastOftenFirst()
    {
        await using var client = RespTestConnection.Start(Store, clock: Clock);
        async Task Expect(string expected, params string[] command)
        {
            await client.SendAsync(RespText.Command(command));
            Assert.Equal(expected, await client.ReceiveAsync(expected));
        }

        await Expect("+OK\r\n", "CONFIG", "SET", "notify-keyspace-events", "Ee");
        await using var subscriber = await SubscribeToEvictionsAsync(client);
        await Expect("+OK\r\n", "CONFIG", "SET", "maxmemory-policy", "allkeys-lfu");
        await Expect("+OK\r\n", "CONFIG", "SET", "maxmemory-samples", "64");

        // A new key's counter is 5, and its first use after that always raises it (Redis's LFULogIncr).
        await Expect("+OK\r\n", "SET", "often", "value");
        await Expect("$5\r\nvalue\r\n", "GET", "often");
        Clock.Advance(TimeSpan.FromSeconds(1));
        await Expect("+OK\r\n", "SET", "once", "value");
        Clock.Advance(TimeSpan.FromSeconds(1));
        await Expect("+OK\r\n", "SET", "once-later", "value");
        await Expect(":6\r\n", "OBJECT", "FREQ", "often");
        await Expect(":5\r\n", "OBJECT", "FREQ", "once");

        // By recency "often" would go first; by frequency it goes last (ties by recency).
        await Expect("+OK\r\n", "CONFIG", "SET", "maxmemory", "1");
        Assert.Equal(["once", "once-later", "often"], await EvictedKeysAsync(subscriber, 3));
        await Expect("+OK\r\n", "CONFIG", "SET", "maxmemory", "0");
    }

    private static async Task<RespTestConnection> SubscribeToEvictionsAsync(RespTestConnection client)
    {
        var subscriber = RespTestConnection.StartBeside(client);
        await subscriber.SendAsync(RespText.Command("SUBSCRIBE", "__keyevent@0__:evicted"));
        await subscriber.ReceiveAsync("*3\r\n$9\r\nsubscribe\r\n$22\r\n__keyevent@0__:evicted\r\n:1\r\n");
        return subscriber;
    }

    /// <summary>The keys of the next <paramref name="count"/> evicted events, in the order they came.</summary>
    private static async Task<List<string>> EvictedKeysAsync(RespTestConnection subscriber, int count)
    {
        var keys = new List<string>();
        for (int i = 0; i < count; i++)
        {
            // *3 $7 message $22 channel $N key: read the fixed part, then the key's length line and the key.
            await subscriber.ReceiveAsync("*3\r\n$7\r\nmessage\r\n$22\r\n__keyevent@0__:evicted\r\n");
            string lengthLine = await ReadLineAsync(subscriber);
            int length = int.Parse(lengthLine[1..], System.Globalization.CultureInfo.InvariantCulture);
            keys.Add((await subscriber.ReceiveAsync(new string('k', length) + "\r\n"))[..length]);
        }

        return keys;
    }

    private static async Task<string> ReadLineAsync(RespTestConnection connection)
    {
        var line = new System.Text.StringBuilder();
        while (!line.ToString().EndsWith("\r\n", StringComparison.Ordinal))
        {
            line.Append(await connection.ReceiveAsync("x"));
        }

        return line.ToString()[..^2];
    }

    [Theory]
    [InlineData("100mb", "104857600")]
    [InlineData("1gb", "1073741824")]
    [InlineData("2k", "2000")]
    [InlineData("12345", "12345")]
    public async Task ConfigSetMaxmemory_TakesRedisUnits(string setting, string bytes)
    {
        await Expect("+OK\r\n", "CONFIG", "SET", "maxmemory", setting);
        Assert.Equal(["maxmemory", bytes], Bulks(await Call("CONFIG", "GET", "maxmemory")));
        await Expect("+OK\r\n", "CONFIG", "SET", "maxmemory", "0");
    }

    [Fact]
    public async Task ConfigSet_RefusesAnUnknownPolicyAndABadAmount()
    {
        Assert.StartsWith("-ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy')", await Call("CONFIG", "SET", "maxmemory-policy", "lru"), StringComparison.Ordinal);
        Assert.StartsWith("-ERR CONFIG SET failed (possibly related to argument 'maxmemory')", await Call("CONFIG", "SET", "maxmemory", "lots"), StringComparison.Ordinal);
        Assert.Equal(["maxmemory-policy", "noeviction"], Bulks(await Call("CONFIG", "GET", "maxmemory-policy")));
    }
}
