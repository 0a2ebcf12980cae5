using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.Cluster;

/// <summary>
/// Hash slots on a real 3-node cluster (rocksdb, so keys are read back in the engine's own hash order): CLUSTER KEYSLOT
/// answers as redis-server in cluster mode does, keys sharing a {hash tag} land in one slot, and COUNTKEYSINSLOT and
/// GETKEYSINSLOT see exactly the live keys of a slot on every node.
/// </summary>
public sealed class HashSlotClusterTests
{
    private static readonly TimeSpan ConvergeTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task SlotCommands_AnswerAsRedisCluster_AndSeeEveryLiveKeyOfASlotOnEveryNode()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync(engine: "rocksdb");
        using RawRespClient node1 = cluster.Connect(0);
        Assert.Equal(":12182", node1.Call("CLUSTER", "KEYSLOT", "foo").ToString());
        Assert.Equal(":12182", node1.Call("CLUSTER", "KEYSLOT", "{foo}bar").ToString());
        Assert.Equal(":3443", node1.Call("CLUSTER", "KEYSLOT", "{user1000}.following").ToString());

        // Five keys of one tag (strings, a hash, a set), one deleted, beside a hundred other keys.
        foreach (string suffix in new[] { "a", "b", "c" })
        {
            Assert.Equal("+OK", node1.Call("SET", $"{{user1000}}.{suffix}", "v").ToString());
        }

        Assert.Equal(":1", node1.Call("HSET", "{user1000}.hash", "f", "v").ToString());
        Assert.Equal(":1", node1.Call("SADD", "{user1000}.set", "m").ToString());
        Assert.Equal(":1", node1.Call("DEL", "{user1000}.c").ToString());
        for (int i = 0; i < 100; i++)
        {
            Assert.Equal("+OK", node1.Call("SET", $"other:{i}", "v").ToString());
        }

        string[] expected = ["{user1000}.a", "{user1000}.b", "{user1000}.hash", "{user1000}.set"];
        for (int i = 0; i < 3; i++)
        {
            using RawRespClient node = cluster.Connect(i);
            string[] keys = [];
            for (DateTime until = DateTime.UtcNow + ConvergeTimeout; DateTime.UtcNow < until; await Task.Delay(200))
            {
                keys = [.. node.Call("CLUSTER", "GETKEYSINSLOT", "3443", "100").Items!.Select(k => k.Text!).Order(StringComparer.Ordinal)];
                if (keys.SequenceEqual(expected))
                {
                    break;
                }
            }

            Assert.Equal(expected, keys);
            Assert.Equal(":4", node.Call("CLUSTER", "COUNTKEYSINSLOT", "3443").ToString());
            Assert.Equal(2, node.Call("CLUSTER", "GETKEYSINSLOT", "3443", "2").Items!.Count);
            Assert.Equal(":0", node.Call("CLUSTER", "COUNTKEYSINSLOT", "0").ToString());
        }

        Assert.Equal("-ERR Invalid slot", node1.Call("CLUSTER", "COUNTKEYSINSLOT", "16384").ToString());
        Assert.Equal("-ERR Invalid slot or number of keys", node1.Call("CLUSTER", "GETKEYSINSLOT", "1", "-1").ToString());
        Assert.Equal("-ERR value is not an integer or out of range", node1.Call("CLUSTER", "COUNTKEYSINSLOT", "x").ToString());
        Assert.StartsWith("-ERR unknown subcommand 'NOPE'", node1.Call("CLUSTER", "NOPE").ToString(), StringComparison.Ordinal);
        Assert.Equal(":104", node1.Call("DBSIZE").ToString());

        // A transaction over two slots is refused whole at EXEC, as Redis Cluster refuses it; one slot runs.
        Assert.Equal("+OK", node1.Call("MULTI").ToString());
        Assert.Equal("+QUEUED", node1.Call("SET", "foo", "1").ToString());
        Assert.Equal("+QUEUED", node1.Call("MSET", "{foo}x", "2", "bar", "3").ToString());
        Assert.Equal("-CROSSSLOT Keys in request don't hash to the same slot", node1.Call("EXEC").ToString());
        Assert.Equal(":0", node1.Call("EXISTS", "foo", "{foo}x", "bar").ToString());
        Assert.Equal("+OK", node1.Call("MULTI").ToString());
        Assert.Equal("+QUEUED", node1.Call("SET", "foo", "1").ToString());
        Assert.Equal("+QUEUED", node1.Call("INCR", "{foo}x").ToString());
        Assert.Equal("*[+OK, :1]", node1.Call("EXEC").ToString());
    }
}
