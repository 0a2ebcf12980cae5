using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>
/// Replica → initiator: the Merkle root of each partition a <see cref="MerkleRootsRequest"/> named, in request order
/// (0 for a partition the replica holds no keys of). u32 count, then u64 each.
/// </summary>
public sealed record MerkleRootsReply(ReadOnlyMemory<ulong> Roots) : IPeerMessage<MerkleRootsReply>
{
    public static PeerMessageType MessageType => PeerMessageType.MerkleRootsReply;

    public PeerMessageType Type => MessageType;

    public int PayloadLength => PayloadLengthFor(Roots.Length);

    /// <summary>The payload size of a reply carrying <paramref name="count"/> roots.</summary>
    public static int PayloadLengthFor(int count)
    {
        if (count > PeerLimits.MaxMerkleRoots)
        {
            throw new ArgumentException($"a Merkle roots reply carries at most {PeerLimits.MaxMerkleRoots} roots, not {count}", nameof(count));
        }

        return 4 + (count * sizeof(ulong));
    }

    public void Write(IBufferWriter<byte> writer)
    {
        _ = PayloadLengthFor(Roots.Length);
        PeerPayloadWriter.WriteInt32(writer, Roots.Length);
        foreach (ulong root in Roots.Span)
        {
            PeerPayloadWriter.WriteUInt64(writer, root);
        }
    }

    public static MerkleRootsReply Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        int count = reader.ReadInt32("count");
        if (count < 0 || count > PeerLimits.MaxMerkleRoots || count > (payload.Length - 4) / sizeof(ulong))
        {
            throw new PeerProtocolException($"{MessageType} payload: field 'count' {count} exceeds its limit of {PeerLimits.MaxMerkleRoots} or the payload");
        }

        var roots = new ulong[count];
        for (int i = 0; i < count; i++)
        {
            roots[i] = reader.ReadUInt64("root");
        }

        reader.EnsureEnd();
        return new MerkleRootsReply(roots);
    }
}
