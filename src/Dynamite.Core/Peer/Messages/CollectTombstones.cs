using System.Buffers;
using Dynamite.Core.AntiEntropy;
using Dynamite.Core.Partitioning;

namespace Dynamite.Core.Peer.Messages;

/// <summary>
/// Tombstone collector → every other primary, once all of them confirmed the same digest for each key: delete
/// each key if (and only if) its stored object still has the given key digest. i32 partition, u32 count, then
/// per key a length-prefixed key and a u64 digest.
/// </summary>
public sealed record CollectTombstones(PartitionId Partition, IReadOnlyList<SegmentKey> Keys) : IPeerMessage<CollectTombstones>
{
    /// <summary>The smallest entry on the wire: an empty key's length prefix and the digest.</summary>
    private const int MinEntryBytes = 4 + 8;

    public static PeerMessageType MessageType => PeerMessageType.CollectTombstones;

    public PeerMessageType Type => MessageType;

    public int PayloadLength
    {
        get
        {
            int length = 4 + 4;
            foreach (SegmentKey entry in Keys)
            {
                length = checked(length + PeerPayloadWriter.BytesSize(entry.Key, PeerLimits.MaxKeyBytes, "key") + 8);
            }

            return length;
        }
    }

    public void Write(IBufferWriter<byte> writer)
    {
        PeerPayloadWriter.WriteInt32(writer, Partition.Value);
        PeerPayloadWriter.WriteInt32(writer, Keys.Count);
        foreach (SegmentKey entry in Keys)
        {
            PeerPayloadWriter.WriteBytes(writer, entry.Key, PeerLimits.MaxKeyBytes, "key");
            PeerPayloadWriter.WriteUInt64(writer, entry.Digest);
        }
    }

    public static CollectTombstones Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        int partition = reader.ReadInt32("partition");
        int count = reader.ReadInt32("count");
        if (partition < 0)
        {
            throw new PeerProtocolException($"{MessageType} payload: field 'partition' is negative");
        }

        // Each entry takes at least MinEntryBytes, so a count the payload cannot hold is refused before allocating.
        if (count < 0 || count > (payload.Length - 8) / MinEntryBytes)
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
        return new CollectTombstones(new PartitionId(partition), keys);
    }
}
