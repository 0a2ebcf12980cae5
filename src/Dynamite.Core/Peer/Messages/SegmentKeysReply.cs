using System.Buffers;
using Dynamite.Core.AntiEntropy;

namespace Dynamite.Core.Peer.Messages;

/// <summary>
/// Replica → initiator: every key of the requested segment with its key digest
/// (<see cref="PartitionMerkleTree.KeyDigest(ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>); u32 count, then per
/// key a length-prefixed key and a u64 digest. Tombstones are listed too: they are keys like any other.
/// </summary>
public sealed record SegmentKeysReply(IReadOnlyList<SegmentKey> Keys) : IPeerMessage<SegmentKeysReply>
{
    /// <summary>The smallest entry on the wire: an empty key's length prefix and the digest.</summary>
    private const int MinEntryBytes = 4 + 8;

    public static PeerMessageType MessageType => PeerMessageType.SegmentKeysReply;

    public PeerMessageType Type => MessageType;

    public int PayloadLength
    {
        get
        {
            int length = 4;
            foreach (SegmentKey entry in Keys)
            {
                length = checked(length + PeerPayloadWriter.BytesSize(entry.Key, PeerLimits.MaxKeyBytes, "key") + 8);
            }

            return length;
        }
    }

    public void Write(IBufferWriter<byte> writer)
    {
        PeerPayloadWriter.WriteInt32(writer, Keys.Count);
        foreach (SegmentKey entry in Keys)
        {
            PeerPayloadWriter.WriteBytes(writer, entry.Key, PeerLimits.MaxKeyBytes, "key");
            PeerPayloadWriter.WriteUInt64(writer, entry.Digest);
        }
    }

    public static SegmentKeysReply Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        int count = reader.ReadInt32("count");

        // Each entry takes at least MinEntryBytes, so a count the payload cannot hold is refused before allocating.
        if (count < 0 || count > (payload.Length - 4) / MinEntryBytes)
        {
            throw new PeerProtocolException($"{MessageType} payload: field 'count' {count} exceeds what the payload can hold");
        }

        var keys = new SegmentKey[count];
        for (int i = 0; i < count; i++)
        {
            byte[] key = reader.ReadBytes("key", PeerLimits.MaxKeyBytes);
            keys[i] = new SegmentKey(key, reader.ReadUInt64("digest"));
        }

        reader.EnsureEnd();
        return new SegmentKeysReply(keys);
    }
}
