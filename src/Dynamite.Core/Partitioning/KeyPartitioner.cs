using System.IO.Hashing;

namespace Dynamite.Core.Partitioning;

/// <summary>
/// Maps keys to the 2^Q fixed partitions. A key's 64-bit hash is its Redis Cluster hash slot (<see cref="HashSlot"/>)
/// in the top 14 bits and its XXH64 below, and its partition is the top Q bits of that hash (Q at most 14): one
/// partition is one contiguous range of slots and of the hash space, so keys sharing a <c>{hash tag}</c> share a
/// partition and a replica set, a cluster-aware client can route by slot, and an engine that orders keys by hash can
/// iterate a partition, or a slot, or resume a scan, with a single range query.
/// </summary>
public sealed class KeyPartitioner
{
    /// <summary>Largest supported Q: one partition per hash slot (16,384), far more than any cluster here needs.</summary>
    public const int MaxPartitionBits = HashSlot.Bits;

    public KeyPartitioner(int partitionBits)
    {
        if (partitionBits is < 1 or > MaxPartitionBits)
        {
            throw new ArgumentOutOfRangeException(nameof(partitionBits), partitionBits, $"Q must be between 1 and {MaxPartitionBits}.");
        }

        PartitionBits = partitionBits;
        PartitionCount = 1 << partitionBits;
    }

    /// <summary>Q: the number of bits of the hash that select the partition.</summary>
    public int PartitionBits { get; }

    /// <summary>2^Q.</summary>
    public int PartitionCount { get; }

    /// <summary>
    /// The key's slot (<see cref="HashSlot.Of"/>) in the top 14 bits, then the top 50 bits of its XXH64
    /// (https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md), seed 0: stable across processes, machines and
    /// versions, which <c>string.GetHashCode</c> is not. Persisted data and partition placement depend on it, so both
    /// halves are pinned by their reference test vectors.
    /// </summary>
    public static ulong HashKey(ReadOnlySpan<byte> key) => ((ulong)HashSlot.Of(key) << (64 - HashSlot.Bits)) | (XxHash64.HashToUInt64(key) >> HashSlot.Bits);

    /// <summary>The first hash of the keys in <paramref name="slot"/>.</summary>
    public static ulong FirstHashOfSlot(int slot) => (ulong)slot << (64 - HashSlot.Bits);

    public PartitionId PartitionOf(ReadOnlySpan<byte> key) => PartitionOfHash(HashKey(key));

    public PartitionId PartitionOfHash(ulong keyHash) => new((int)(keyHash >> (64 - PartitionBits)));

    /// <summary>The first hash that belongs to <paramref name="partition"/>.</summary>
    public ulong FirstHashOf(PartitionId partition) => (ulong)partition.Value << (64 - PartitionBits);

    /// <summary>The last hash that belongs to <paramref name="partition"/> (inclusive).</summary>
    public ulong LastHashOf(PartitionId partition) => FirstHashOf(partition) + ((1UL << (64 - PartitionBits)) - 1);
}
