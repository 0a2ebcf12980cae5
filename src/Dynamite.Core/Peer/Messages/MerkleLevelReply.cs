using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>Replica → initiator: the node hashes a <see cref="MerkleLevelRequest"/> asked for, in index order (u32 count, then u64 each).</summary>
public sealed record MerkleLevelReply(ReadOnlyMemory<ulong> Hashes) : IPeerMessage<MerkleLevelReply>
{
    public static PeerMessageType MessageType => PeerMessageType.MerkleLevelReply;

    public PeerMessageType Type => MessageType;

    public int PayloadLength => PayloadLengthFor(Hashes.Length);

    /// <summary>The payload size of a reply carrying <paramref name="count"/> hashes (anti-entropy counts its bytes with it).</summary>
    public static int PayloadLengthFor(int count)
    {
        if (count > PeerLimits.MaxMerkleHashes)
        {
            throw new ArgumentException($"a Merkle level reply carries at most {PeerLimits.MaxMerkleHashes} hashes, not {count}", nameof(count));
        }

        return 4 + (count * sizeof(ulong));
    }

    public void Write(IBufferWriter<byte> writer)
    {
        _ = PayloadLengthFor(Hashes.Length);
        PeerPayloadWriter.WriteInt32(writer, Hashes.Length);
        foreach (ulong hash in Hashes.Span)
        {
            PeerPayloadWriter.WriteUInt64(writer, hash);
        }
    }

    public static MerkleLevelReply Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        int count = reader.ReadInt32("count");
        if (count < 0 || count > PeerLimits.MaxMerkleHashes || count > (payload.Length - 4) / sizeof(ulong))
        {
            throw new PeerProtocolException($"{MessageType} payload: field 'count' {count} exceeds its limit or the payload");
        }

        var hashes = new ulong[count];
        for (int i = 0; i < count; i++)
        {
            hashes[i] = reader.ReadUInt64("hash");
        }

        reader.EnsureEnd();
        return new MerkleLevelReply(hashes);
    }
}
