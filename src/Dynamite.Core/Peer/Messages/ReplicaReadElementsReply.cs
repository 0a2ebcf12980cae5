using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>Replica → coordinator: what it stores of the key read, an encoded <see cref="DataTypes.ReplicaElements"/>.</summary>
public sealed record ReplicaReadElementsReply(ReadOnlyMemory<byte> EncodedElements) : IPeerMessage<ReplicaReadElementsReply>
{
    public static PeerMessageType MessageType => PeerMessageType.ReplicaReadElementsReply;

    public PeerMessageType Type => MessageType;

    public int PayloadLength => PeerPayloadWriter.BytesSize(EncodedElements, PeerLimits.MaxObjectBytes, nameof(EncodedElements));

    public void Write(IBufferWriter<byte> writer) =>
        PeerPayloadWriter.WriteBytes(writer, EncodedElements.Span, PeerLimits.MaxObjectBytes, nameof(EncodedElements));

    public static ReplicaReadElementsReply Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        byte[] elements = reader.ReadBytes("elements", PeerLimits.MaxObjectBytes);
        reader.EnsureEnd();
        return new ReplicaReadElementsReply(elements);
    }
}
