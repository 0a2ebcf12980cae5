using System.IO.Pipelines;
using System.Text;
using Dynamite.Protocols.Resp.PubSub;
using Xunit;

namespace Dynamite.Protocols.Tests.PubSub;

public sealed class PubSubPartsTests
{
    [Fact]
    public void PushFrames_EncodeMessagesAsRedisServerDoes_InRespTwoAndThree()
    {
        Assert.Equal("*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n", Text(PushFrames.Message(false, "message"u8, "news"u8, "hi"u8)));
        Assert.Equal(">3\r\n$8\r\nsmessage\r\n$4\r\nnews\r\n$0\r\n\r\n", Text(PushFrames.Message(true, "smessage"u8, "news"u8, ""u8)));
        byte[] large = new byte[12345];
        string frame = Text(PushFrames.PatternMessage(false, "n*"u8, "news"u8, large));
        Assert.StartsWith("*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$12345\r\n", frame, StringComparison.Ordinal);
        Assert.EndsWith("\r\n", frame, StringComparison.Ordinal);
    }

    [Fact]
    public void Outbox_WakesItsConnectionOncePerRound_AndDisconnectsAClientPastItsHardLimit()
    {
        int disconnects = 0;
        var outbox = new ClientOutbox(() => { }, () => disconnects++);
        var limit = new OutputBufferLimit(HardBytes: 100, SoftBytes: 0, SoftSeconds: 0);
        var wakes = new WakeList();
        Assert.True(outbox.TryPush(new byte[40], limit, nowMs: 0, wakes));
        Assert.True(outbox.TryPush(new byte[40], limit, nowMs: 0, wakes));
        Assert.Equal(1, wakes.Count);
        Assert.Equal(80, outbox.QueuedBytes);

        var pipe = new Pipe();
        Assert.Equal(80, outbox.WriteTo(pipe.Writer));
        Assert.Equal(0, outbox.QueuedBytes);
        Assert.True(outbox.TryPush(new byte[60], limit, nowMs: 0, wakes));
        Assert.Equal(2, wakes.Count);
        Assert.False(outbox.TryPush(new byte[60], limit, nowMs: 0, wakes));
        Assert.Equal(1, disconnects);
        Assert.True(outbox.Overflowed);
        Assert.Equal(0, outbox.QueuedBytes);
        Assert.False(outbox.TryPush(new byte[1], limit, nowMs: 0));
        Assert.Equal(1, disconnects);
    }

    [Fact]
    public void Outbox_DisconnectsAClientAboveItsSoftLimitForTheWholeSoftPeriod()
    {
        int disconnects = 0;
        var outbox = new ClientOutbox(() => { }, () => disconnects++);
        var limit = new OutputBufferLimit(HardBytes: 0, SoftBytes: 50, SoftSeconds: 2);
        Assert.True(outbox.TryPush(new byte[60], limit, nowMs: 1000));
        Assert.True(outbox.TryPush(new byte[1], limit, nowMs: 2999));
        Assert.False(outbox.TryPush(new byte[1], limit, nowMs: 3000));
        Assert.Equal(1, disconnects);
    }

    [Fact]
    public void OutputBufferLimitSetting_ParsesRedisSyntax_AndRefusesChangesToOtherClasses()
    {
        var current = new OutputBufferLimit();
        Assert.Equal(new OutputBufferLimit(1024 * 1024, 256 * 1000, 10), OutputBufferLimitSetting.Parse("pubsub 1mb 256k 10", current));
        Assert.Equal(current, OutputBufferLimitSetting.Parse("normal 0 0 0", current));
        Assert.Null(OutputBufferLimitSetting.Parse("normal 1mb 0 0", current));
        Assert.Null(OutputBufferLimitSetting.Parse("pubsub 1mb 256k", current));
        Assert.Null(OutputBufferLimitSetting.Parse("pubsub lots 0 0", current));
        Assert.Equal("normal 0 0 0 replica 268435456 67108864 60 pubsub 33554432 8388608 60", OutputBufferLimitSetting.Format(current));
    }

    private static string Text(byte[] bytes) => Encoding.Latin1.GetString(bytes);
}
