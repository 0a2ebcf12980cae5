using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.Tracking;

/// <summary>
/// Server-assisted client-side caching (CLIENT TRACKING) on a real node, as redis-server does it: a RESP3 client hears
/// of the keys it read when another client changes them, once; a RESP2 client through a redirect to a connection
/// subscribed to <c>__redis__:invalidate</c>; BCAST by prefix, OPTIN, NOLOOP, FLUSHALL, expiry; and a cluster node refuses
/// tracking rather than miss writes made through other nodes.
/// </summary>
public sealed class ClientTrackingTests
{
    [Fact]
    public async Task Resp3Client_IsToldOnceWhenAKeyItReadChanges_AndOnlyThen()
    {
        await using DynamiteNode node = await DynamiteNode.StartAsync("memory");
        using RawRespClient cache = node.Connect();
        using RawRespClient writer = node.Connect();
        Assert.False(cache.Call("HELLO", "3").IsError);
        Assert.Equal("+OK", cache.Call("CLIENT", "TRACKING", "ON").ToString());
        Assert.Equal("+OK", writer.Call("SET", "a", "1").ToString());
        Assert.Equal("1", cache.Call("GET", "a").Text);

        Assert.Equal("+OK", writer.Call("SET", "unread", "x").ToString());
        Assert.Equal("+OK", writer.Call("SET", "a", "2").ToString());
        RespValue push = cache.Read();
        Assert.Equal(">", push.Type.ToString());
        Assert.Equal("invalidate", push.Items![0].Text);
        Assert.Equal(["a"], push.Items[1].Items!.Select(k => k.Text));

        // Told once: the key is forgotten until it is read again.
        Assert.Equal("+OK", writer.Call("SET", "a", "3").ToString());
        Assert.Equal("+PONG", cache.Call("PING").ToString());
        Assert.Equal("3", cache.Call("GET", "a").Text);

        // FLUSHALL: everything changed (a null key list). Expiry: the key changed.
        Assert.Equal("+OK", writer.Call("FLUSHALL").ToString());
        RespValue flushed = cache.Read();
        Assert.Equal("invalidate", flushed.Items![0].Text);
        Assert.True(flushed.Items[1].IsNull, flushed.ToString());

        Assert.Equal("+OK", writer.Call("SET", "short", "v", "PX", "300").ToString());
        Assert.Equal("v", cache.Call("GET", "short").Text);
        RespValue expired = cache.Read();
        Assert.Equal(["short"], expired.Items![1].Items!.Select(k => k.Text));
        Assert.Contains("flags=t", cache.Call("CLIENT", "INFO").Text, StringComparison.Ordinal);
        Assert.Equal("RESET", cache.Call("RESET").Text);
        Assert.Contains("flags=N", cache.Call("CLIENT", "INFO").Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resp2Client_HearsThroughARedirectSubscribedToTheInvalidationChannel_BcastOptinAndNoloopToo()
    {
        await using DynamiteNode node = await DynamiteNode.StartAsync("memory");
        using RawRespClient listener = node.Connect();
        using RawRespClient cache = node.Connect();
        using RawRespClient writer = node.Connect();
        string listenerId = listener.Call("CLIENT", "ID").Text!;
        Assert.Equal("__redis__:invalidate", listener.Call("SUBSCRIBE", "__redis__:invalidate").Items![1].Text);

        Assert.Equal("+OK", cache.Call("CLIENT", "TRACKING", "ON", "REDIRECT", listenerId).ToString());
        Assert.Equal(listenerId, cache.Call("CLIENT", "GETREDIR").Text);
        Assert.Equal(":-1", writer.Call("CLIENT", "GETREDIR").ToString());
        Assert.Equal("+OK", writer.Call("MSET", "k1", "a", "k2", "b").ToString());
        cache.Call("MGET", "k1", "k2");
        Assert.Equal(":2", writer.Call("DEL", "k1", "k2", "k3").ToString());
        // One message per key, as redis-server sends them in the default mode.
        RespValue message = listener.Read();
        Assert.Equal("message", message.Items![0].Text);
        Assert.Equal("__redis__:invalidate", message.Items[1].Text);
        Assert.Equal(["k1"], message.Items[2].Items!.Select(k => k.Text));
        Assert.Equal(["k2"], listener.Read().Items![2].Items!.Select(k => k.Text));

        // BCAST with a prefix: told of every change under it, read or not; other keys are not announced.
        Assert.Equal("+OK", cache.Call("CLIENT", "TRACKING", "OFF").ToString());
        Assert.Equal("+OK", cache.Call("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:", "REDIRECT", listenerId).ToString());
        Assert.StartsWith("-ERR Prefix 'user:1' overlaps", cache.Call("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:1").ToString(), StringComparison.Ordinal);
        writer.Call("SET", "other", "x");
        writer.Call("SET", "user:7", "x");
        Assert.Equal(["user:7"], listener.Read().Items![2].Items!.Select(k => k.Text));

        // OPTIN: only the command after CLIENT CACHING YES is tracked. NOLOOP: its own writes are not announced to it.
        Assert.Equal("+OK", cache.Call("CLIENT", "TRACKING", "OFF").ToString());
        Assert.Equal("+OK", cache.Call("CLIENT", "TRACKING", "ON", "OPTIN", "NOLOOP", "REDIRECT", listenerId).ToString());
        Assert.StartsWith("-ERR CLIENT CACHING NO is only valid", cache.Call("CLIENT", "CACHING", "NO").ToString(), StringComparison.Ordinal);
        cache.Call("GET", "not-cached");
        Assert.Equal("+OK", cache.Call("CLIENT", "CACHING", "YES").ToString());
        cache.Call("GET", "cached");
        cache.Call("GET", "own");
        writer.Call("SET", "not-cached", "x");
        cache.Call("SET", "own", "x");
        writer.Call("SET", "cached", "x");
        Assert.Equal(["cached"], listener.Read().Items![2].Items!.Select(k => k.Text));
    }

    [Fact]
    public async Task CommandsWhoseKeysFollowACount_AreTrackedAndAnnounced()
    {
        await using DynamiteNode node = await DynamiteNode.StartAsync("memory");
        using RawRespClient cache = node.Connect();
        using RawRespClient writer = node.Connect();
        Assert.False(cache.Call("HELLO", "3").IsError);
        Assert.Equal("+OK", cache.Call("CLIENT", "TRACKING", "ON").ToString());
        writer.Call("SADD", "s1", "a");
        writer.Call("RPUSH", "l", "a", "b");

        // SINTERCARD numkeys key: a read whose key follows a count; LMPOP numkeys key: a write of that shape.
        Assert.Equal(":1", cache.Call("SINTERCARD", "1", "s1").ToString());
        Assert.Equal(":1", writer.Call("SADD", "s1", "b").ToString());
        Assert.Equal(["s1"], cache.Read().Items![1].Items!.Select(k => k.Text));

        Assert.Equal(2, cache.Call("LRANGE", "l", "0", "-1").Items!.Count);
        Assert.False(writer.Call("LMPOP", "1", "l", "LEFT").IsError);
        Assert.Equal(["l"], cache.Read().Items![1].Items!.Select(k => k.Text));
    }

    [Fact]
    public async Task ClusterNode_RefusesTracking_WithAReason()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        using RawRespClient client = cluster.Connect(0);
        RespValue refused = client.Call("CLIENT", "TRACKING", "ON");
        Assert.StartsWith("-ERR CLIENT TRACKING is not supported on a cluster node", refused.ToString(), StringComparison.Ordinal);
        Assert.Equal(":-1", client.Call("CLIENT", "GETREDIR").ToString());
    }
}
