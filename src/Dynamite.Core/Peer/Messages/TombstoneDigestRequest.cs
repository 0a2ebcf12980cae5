using System.Buffers;
using Dynamite.Core.Partitioning;

namespace Dynamite.Core.Peer.Messages;

/// <summary>
/// Tombstone collector → every other primary of the partition: the key digest
/// (<see cref="AntiEntropy.PartitionMerkleTree.KeyDigest(ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>) of each
/// key, so the collector can tell whether every replica holds exactly its tombstone. i32 partition, u32 count,
/// then length-prefixed keys.
/// </summary>
public sealed record TombstoneDigestRequest(PartitionId Partition, IReadOnlyList<byte[]> Keys) : IPeerMessage<TombstoneDigestRequest>
{
    /// <summary>The smallest key on the wire: an empty key's length prefix.</summary>
    private const int MinKeyBytes = 4;

    public static PeerMessageType MessageType => PeerMessageType.TombstoneDigestRequest;

    public PeerMessageType Type => MessageType;

    public int PayloadLength
    {
        get
        {
            int length = 4 + 4;
            foreach (byte[] key in Keys)
            {
                length = checked(length + PeerPayloadWriter.BytesSize(key, PeerLimits.MaxKeyBytes, "key"));
            }

            return length;
        }
    }

    public void Write(IBufferWriter<byte> writer)
    {
        PeerPayloadWriter.WriteInt32(writer, Partition.Value);
        PeerPayloadWriter.WriteInt32(writer, Keys.Count);
        foreach (byte[] key in Keys)
        {
            PeerPayloadWriter.WriteBytes(writer, key, PeerLimits.MaxKeyBytes, "key");
        }
    }

    public static TombstoneDigestRequest Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        int partition = reader.ReadInt32("partition");
        int count = reader.ReadInt32("count");
        if (partition < 0)
        {
            throw new PeerProtocolException($"{MessageType} payload: field 'partition' is negative");
        }

        // Each key takes at least MinKeyBytes, so a count the payload cannot hold is refused before allocating.
        if (count < 0 || count > (payload.Length - 8) / MinKeyBytes)
        {
            throw new PeerProtocolException($"{MessageType} payload: field 'count' {count} exceeds what the payload can hold");
        }

        var keys = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            keys[i] = reader.ReadBytes("key", PeerLimits.MaxKeyBytes);
        }

        reader.EnsureEnd();
        return new TombstoneDigestRequest(new PartitionId(partition), keys);
    }
}
