using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>The answer to a <see cref="Ping"/>.</summary>
public sealed record Pong(ulong Sequence) : IPeerMessage<Pong>
{
    public static PeerMessageType MessageType => PeerMessageType.Pong;

    public PeerMessageType Type => MessageType;

    public int PayloadLength => 8;

    public void Write(IBufferWriter<byte> writer) => PeerPayloadWriter.WriteUInt64(writer, Sequence);

    public static Pong Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        ulong value = reader.ReadUInt64("sequence");
        reader.EnsureEnd();
        return new Pong(value);
    }
}
