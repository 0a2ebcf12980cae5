using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>Liveness probe; answered by the transport itself with a <see cref="Pong"/> of the same sequence.</summary>
public sealed record Ping(ulong Sequence) : IPeerMessage<Ping>
{
    public static PeerMessageType MessageType => PeerMessageType.Ping;

    public PeerMessageType Type => MessageType;

    public int PayloadLength => 8;

    public void Write(IBufferWriter<byte> writer) => PeerPayloadWriter.WriteUInt64(writer, Sequence);

    public static Ping Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        ulong value = reader.ReadUInt64("sequence");
        reader.EnsureEnd();
        return new Ping(value);
    }
}
