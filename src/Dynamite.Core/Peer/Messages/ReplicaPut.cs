using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>
/// Coordinator → replica: merge this object (opaque encoded versioned object) into what is stored under the
/// key. A delete is a put whose object is a tombstone.
/// </summary>
public sealed record ReplicaPut(ReadOnlyMemory<byte> Key, ReadOnlyMemory<byte> EncodedObject) : IPeerMessage<ReplicaPut>
{
    public static PeerMessageType MessageType => PeerMessageType.ReplicaPut;

    public PeerMessageType Type => MessageType;

    public int PayloadLength =>
        PeerPayloadWriter.BytesSize(Key, PeerLimits.MaxKeyBytes, nameof(Key))
        + PeerPayloadWriter.BytesSize(EncodedObject, PeerLimits.MaxObjectBytes, nameof(EncodedObject));

    public void Write(IBufferWriter<byte> writer)
    {
        PeerPayloadWriter.WriteBytes(writer, Key.Span, PeerLimits.MaxKeyBytes, nameof(Key));
        PeerPayloadWriter.WriteBytes(writer, EncodedObject.Span, PeerLimits.MaxObjectBytes, nameof(EncodedObject));
    }

    public static ReplicaPut Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        byte[] key = reader.ReadBytes("key", PeerLimits.MaxKeyBytes);
        byte[] value = reader.ReadBytes("object", PeerLimits.MaxObjectBytes);
        reader.EnsureEnd();
        return new ReplicaPut(key, value);
    }
}
