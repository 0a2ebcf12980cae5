using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>A member → the FLUSHALL's coordinator: every key is deleted here and the horizon is saved.</summary>
public sealed record FlushAck(long HorizonUnixMs) : IPeerMessage<FlushAck>
{
    public static PeerMessageType MessageType => PeerMessageType.FlushAck;

    public PeerMessageType Type => MessageType;

    public int PayloadLength => 8;

    public void Write(IBufferWriter<byte> writer) => PeerPayloadWriter.WriteInt64(writer, HorizonUnixMs);

    public static FlushAck Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        long horizon = reader.ReadInt64("horizon");
        reader.EnsureEnd();
        return new FlushAck(horizon);
    }
}
