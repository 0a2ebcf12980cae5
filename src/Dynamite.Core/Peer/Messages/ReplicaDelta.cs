using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>
/// Coordinator → replica: join this change (an encoded <see cref="DataTypes.KeyDelta"/>) into the typed key stored
/// under the key (docs/DATA-TYPES.md). Answered by a <see cref="ReplicaPutAck"/>, as a <see cref="ReplicaPut"/> is.
/// </summary>
public sealed record ReplicaDelta(ReadOnlyMemory<byte> Key, ReadOnlyMemory<byte> EncodedDelta) : IPeerMessage<ReplicaDelta>
{
    public static PeerMessageType MessageType => PeerMessageType.ReplicaDelta;

    public PeerMessageType Type => MessageType;

    public int PayloadLength =>
        PeerPayloadWriter.BytesSize(Key, PeerLimits.MaxKeyBytes, nameof(Key))
        + PeerPayloadWriter.BytesSize(EncodedDelta, PeerLimits.MaxObjectBytes, nameof(EncodedDelta));

    public void Write(IBufferWriter<byte> writer)
    {
        PeerPayloadWriter.WriteBytes(writer, Key.Span, PeerLimits.MaxKeyBytes, nameof(Key));
        PeerPayloadWriter.WriteBytes(writer, EncodedDelta.Span, PeerLimits.MaxObjectBytes, nameof(EncodedDelta));
    }

    public static ReplicaDelta Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        byte[] key = reader.ReadBytes("key", PeerLimits.MaxKeyBytes);
        byte[] delta = reader.ReadBytes("delta", PeerLimits.MaxObjectBytes);
        reader.EnsureEnd();
        return new ReplicaDelta(key, delta);
    }
}
