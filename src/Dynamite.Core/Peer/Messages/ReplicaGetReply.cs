using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>
/// Replica → coordinator: the stored object, as the opaque encoding the versioning module defines (siblings
/// and causal context); empty unless <paramref name="Status"/> is <see cref="ReplicaGetStatus.Found"/>
/// (<see cref="ReplicaGetStatus.Unchanged"/> means "the object whose digest you sent").
/// </summary>
public sealed record ReplicaGetReply(ReplicaGetStatus Status, ReadOnlyMemory<byte> EncodedObject) : IPeerMessage<ReplicaGetReply>
{
    public static PeerMessageType MessageType => PeerMessageType.ReplicaGetReply;

    public PeerMessageType Type => MessageType;

    public int PayloadLength => 1 + PeerPayloadWriter.BytesSize(EncodedObject, PeerLimits.MaxObjectBytes, nameof(EncodedObject));

    public void Write(IBufferWriter<byte> writer)
    {
        PeerPayloadWriter.WriteByte(writer, (byte)Status);
        PeerPayloadWriter.WriteBytes(writer, EncodedObject.Span, PeerLimits.MaxObjectBytes, nameof(EncodedObject));
    }

    public static ReplicaGetReply Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        var status = (ReplicaGetStatus)reader.ReadByte("status");
        if (!Enum.IsDefined(status))
        {
            throw new PeerProtocolException($"{MessageType} payload: unknown status {(byte)status}");
        }

        byte[] value = reader.ReadBytes("object", PeerLimits.MaxObjectBytes);
        reader.EnsureEnd();
        return new ReplicaGetReply(status, value);
    }
}
