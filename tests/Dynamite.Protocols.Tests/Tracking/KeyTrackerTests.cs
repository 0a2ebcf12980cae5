using System.IO.Pipelines;
using System.Text;
using Dynamite.Protocols.Resp;
using Dynamite.Protocols.Resp.PubSub;
using Dynamite.Protocols.Resp.Tracking;
using Xunit;

namespace Dynamite.Protocols.Tests.Tracking;

/// <summary>
/// The tracking table on its own: what it sends, to whom, once; its bound (the oldest keys announced and forgotten);
/// and that it empties when nobody tracks.
/// </summary>
public sealed class KeyTrackerTests
{
    private static readonly TrackingSettings Default = new(RedirectId: 0, Broadcast: false, Prefixes: [], OptIn: false, OptOut: false, NoLoop: false);

    [Fact]
    public void Frames_AreRedisServersPushesAndMessages()
    {
        Assert.Equal(">2\r\n$10\r\ninvalidate\r\n*2\r\n$1\r\na\r\n$2\r\nbc\r\n", Text(InvalidationFrames.For(resp3: true, [B("a"), B("bc")])));
        Assert.Equal(">2\r\n$10\r\ninvalidate\r\n_\r\n", Text(InvalidationFrames.For(resp3: true, null)));
        Assert.Equal("*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$1\r\na\r\n", Text(InvalidationFrames.For(resp3: false, [B("a")])));
        Assert.Equal("*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*-1\r\n", Text(InvalidationFrames.For(resp3: false, null)));
        Assert.Equal(">2\r\n$21\r\ntracking-redir-broken\r\n:42\r\n", Text(InvalidationFrames.RedirectBroken(42)));
    }

    [Fact]
    public void AReaderIsToldOncePerKey_AWriterWithNoloopIsNot_AndTheTableForgetsAnnouncedKeys()
    {
        (KeyTracker tracker, ClientRegistry clients) = NewTracker();
        ClientSession reader = Client(clients, resp3: true);
        ClientSession writer = Client(clients, resp3: true);
        tracker.Set(reader, Default);
        tracker.Set(writer, Default with { NoLoop = true });
        tracker.RecordReads(reader, [B("k1"), B("k2")]);
        tracker.RecordReads(writer, [B("k1")]);
        Assert.Equal(2, tracker.KeyCount);
        Assert.Equal(3, tracker.ItemCount);

        tracker.Invalidate([B("k1"), B("k1"), B("unread")], writer);
        Assert.Equal(">2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\nk1\r\n", Drain(reader));
        Assert.Equal("", Drain(writer));
        Assert.Equal(1, tracker.KeyCount);

        tracker.Invalidate([B("k1")], writer: null);
        Assert.Equal("", Drain(reader));
    }

    [Fact]
    public void PastItsBound_TheOldestKeysAreAnnouncedAndForgotten_AndLoweringTheBoundEvictsAtOnce()
    {
        (KeyTracker tracker, ClientRegistry clients) = NewTracker();
        ClientSession reader = Client(clients, resp3: true);
        tracker.Set(reader, Default);
        tracker.MaxKeys = 3;
        tracker.RecordReads(reader, [B("a"), B("b"), B("c"), B("d")]);
        Assert.Equal(3, tracker.KeyCount);
        Assert.Equal(">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\na\r\n", Drain(reader));

        tracker.MaxKeys = 1;
        Assert.Equal(1, tracker.KeyCount);
        Assert.Equal(">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nb\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nc\r\n", Drain(reader));

        tracker.Set(reader, null);
        Assert.False(tracker.Active);
        Assert.Equal(0, tracker.KeyCount);
    }

    [Fact]
    public void Broadcast_SendsOneMessagePerMatchingPrefix_ToClientsThatReadNothing()
    {
        (KeyTracker tracker, ClientRegistry clients) = NewTracker();
        ClientSession listener = Client(clients, resp3: true);
        tracker.Set(listener, Default with { Broadcast = true, Prefixes = [B("a:"), B("b:")] });
        Assert.Equal(2, tracker.PrefixCount);
        tracker.Invalidate([B("a:1"), B("c:1"), B("b:1"), B("a:2")], writer: null);
        Assert.Equal(
            ">2\r\n$10\r\ninvalidate\r\n*2\r\n$3\r\na:1\r\n$3\r\na:2\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\nb:1\r\n",
            Drain(listener));
    }

    private static (KeyTracker Tracker, ClientRegistry Clients) NewTracker()
    {
        var clients = new ClientRegistry();
        return (new KeyTracker(clients, new PubSubHub(() => 0), () => 0), clients);
    }

    private static ClientSession Client(ClientRegistry clients, bool resp3)
    {
        var client = new ClientSession(clients.NextId(), "test", "test", 0) { ProtocolVersion = resp3 ? 3 : 2 };
        Assert.True(clients.TryRegister(client, maxClients: 100));
        return client;
    }

    /// <summary>What waits in the client's outbox, as text.</summary>
    private static string Drain(ClientSession client)
    {
        if (client.Outbox is not { } outbox)
        {
            return "";
        }

        var pipe = new Pipe();
        outbox.WriteTo(pipe.Writer);
        pipe.Writer.Complete();
        pipe.Reader.TryRead(out ReadResult result);
        string text = Encoding.UTF8.GetString(result.Buffer);
        pipe.Reader.AdvanceTo(result.Buffer.End);
        return text;
    }

    private static byte[] B(string text) => Encoding.UTF8.GetBytes(text);

    private static string Text(byte[] frame) => Encoding.UTF8.GetString(frame);
}
