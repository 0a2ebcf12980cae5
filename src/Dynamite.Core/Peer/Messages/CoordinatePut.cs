using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>
/// A write forwarded to a replica of its key by a node that holds none (a cluster larger than N): the
/// replica coordinates it exactly as if a client had sent it there. Puts are coordinated by a replica so that
/// the dot a write gets is issued atomically with the replica's own copy (Riak forwards puts the same way).
/// </summary>
/// <param name="Key">The key.</param>
/// <param name="EncodedContext">The client's context as an encoded version vector; empty: supersede what the replica holds.</param>
/// <param name="Value">The value; ignored for a delete.</param>
/// <param name="IsDelete">A delete (tombstone) rather than a value.</param>
/// <param name="ExpiresAtUnixMs">Absolute expiry; 0 for none.</param>
/// <param name="WriteQuorum">W for this write; 0 for the cluster default.</param>
/// <param name="BitPatches">The fields a bit command wrote (<see cref="Versioning.Sibling.BitPatches"/>); empty for a whole value.</param>
public sealed record CoordinatePut(
    ReadOnlyMemory<byte> Key,
    ReadOnlyMemory<byte> EncodedContext,
    ReadOnlyMemory<byte> Value,
    bool IsDelete,
    long ExpiresAtUnixMs,
    int WriteQuorum,
    ReadOnlyMemory<byte> BitPatches) : IPeerMessage<CoordinatePut>
{
    public static PeerMessageType MessageType => PeerMessageType.CoordinatePut;

    public PeerMessageType Type => MessageType;

    public int PayloadLength =>
        PeerPayloadWriter.BytesSize(Key, PeerLimits.MaxKeyBytes, nameof(Key))
        + PeerPayloadWriter.BytesSize(EncodedContext, PeerLimits.MaxObjectBytes, nameof(EncodedContext))
        + PeerPayloadWriter.BytesSize(Value, PeerLimits.MaxObjectBytes, nameof(Value))
        + 1 + 8 + 4
        + PeerPayloadWriter.BytesSize(BitPatches, PeerLimits.MaxObjectBytes, nameof(BitPatches));

    public void Write(IBufferWriter<byte> writer)
    {
        PeerPayloadWriter.WriteBytes(writer, Key.Span, PeerLimits.MaxKeyBytes, nameof(Key));
        PeerPayloadWriter.WriteBytes(writer, EncodedContext.Span, PeerLimits.MaxObjectBytes, nameof(EncodedContext));
        PeerPayloadWriter.WriteBytes(writer, Value.Span, PeerLimits.MaxObjectBytes, nameof(Value));
        PeerPayloadWriter.WriteByte(writer, IsDelete ? (byte)1 : (byte)0);
        PeerPayloadWriter.WriteInt64(writer, ExpiresAtUnixMs);
        PeerPayloadWriter.WriteInt32(writer, WriteQuorum);
        PeerPayloadWriter.WriteBytes(writer, BitPatches.Span, PeerLimits.MaxObjectBytes, nameof(BitPatches));
    }

    public static CoordinatePut Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        byte[] key = reader.ReadBytes("key", PeerLimits.MaxKeyBytes);
        byte[] context = reader.ReadBytes("context", PeerLimits.MaxObjectBytes);
        byte[] value = reader.ReadBytes("value", PeerLimits.MaxObjectBytes);
        byte isDelete = reader.ReadByte("delete flag");
        long expiresAt = reader.ReadInt64("expiry");
        int writeQuorum = reader.ReadInt32("write quorum");
        byte[] bitPatches = reader.ReadBytes("bit patches", PeerLimits.MaxObjectBytes);
        reader.EnsureEnd();
        if (isDelete > 1 || expiresAt < 0 || writeQuorum < 0)
        {
            throw new PeerProtocolException($"{MessageType} payload: invalid delete flag, expiry or write quorum");
        }

        return new CoordinatePut(key, context, value, isDelete == 1, expiresAt, writeQuorum, bitPatches);
    }
}
