using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>
/// Coordinator → replica: read a typed key's record and the elements an encoded <see cref="DataTypes.ElementSelection"/>
/// names; answered by a <see cref="ReplicaReadElementsReply"/>.
/// </summary>
public sealed record ReplicaReadElements(ReadOnlyMemory<byte> Key, ReadOnlyMemory<byte> EncodedSelection) : IPeerMessage<ReplicaReadElements>
{
    public static PeerMessageType MessageType => PeerMessageType.ReplicaReadElements;

    public PeerMessageType Type => MessageType;

    public int PayloadLength =>
        PeerPayloadWriter.BytesSize(Key, PeerLimits.MaxKeyBytes, nameof(Key))
        + PeerPayloadWriter.BytesSize(EncodedSelection, PeerLimits.MaxObjectBytes, nameof(EncodedSelection));

    public void Write(IBufferWriter<byte> writer)
    {
        PeerPayloadWriter.WriteBytes(writer, Key.Span, PeerLimits.MaxKeyBytes, nameof(Key));
        PeerPayloadWriter.WriteBytes(writer, EncodedSelection.Span, PeerLimits.MaxObjectBytes, nameof(EncodedSelection));
    }

    public static ReplicaReadElements Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        byte[] key = reader.ReadBytes("key", PeerLimits.MaxKeyBytes);
        byte[] selection = reader.ReadBytes("selection", PeerLimits.MaxObjectBytes);
        reader.EnsureEnd();
        return new ReplicaReadElements(key, selection);
    }
}
