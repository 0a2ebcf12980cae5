using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>
/// A FLUSHALL's coordinator → every member: delete every key, and from now on drop any write stamped at or before
/// <paramref name="HorizonUnixMs"/> that still arrives (a hint, a read repair, an anti-entropy copy, a late replica
/// write). With <paramref name="CheckOnly"/> the member only answers: the coordinator's first round, which proves every
/// member reachable before any deletes. Answered by a <see cref="FlushAck"/>.
/// </summary>
public sealed record FlushRequest(long HorizonUnixMs, bool CheckOnly = false) : IPeerMessage<FlushRequest>
{
    public static PeerMessageType MessageType => PeerMessageType.FlushRequest;

    public PeerMessageType Type => MessageType;

    public int PayloadLength => 9;

    public void Write(IBufferWriter<byte> writer)
    {
        PeerPayloadWriter.WriteInt64(writer, HorizonUnixMs);
        PeerPayloadWriter.WriteByte(writer, CheckOnly ? (byte)1 : (byte)0);
    }

    public static FlushRequest Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        long horizon = reader.ReadInt64("horizon");
        byte checkOnly = reader.ReadByte("check only");
        reader.EnsureEnd();
        if (horizon <= 0 || checkOnly > 1)
        {
            throw new PeerProtocolException($"{MessageType} payload: horizon {horizon}, check-only flag {checkOnly}");
        }

        return new FlushRequest(horizon, checkOnly == 1);
    }
}
