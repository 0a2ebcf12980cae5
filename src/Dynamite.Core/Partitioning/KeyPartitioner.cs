using System.IO.Hashing;

namespace Dynamite.Core.Partitioning;

/// <summary>
/// Maps keys to the 2^Q fixed partitions. A key's partition is the top Q bits of its XXH64 hash,
/// so one partition is one contiguous range of the hash space: an engine that orders keys by hash
/// can iterate a partition, or resume a scan, with a single range query.
/// </summary>
public sealed class KeyPartitioner
{
    /// <summary>Largest supported Q: 65,536 partitions is far more than any cluster here needs.</summary>
    public const int MaxPartitionBits = 16;

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
    /// XXH64 (https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md), seed 0: stable across
    /// processes, machines and versions, which <c>string.GetHashCode</c> is not. Persisted data and partition
    /// placement depend on it, so its output is pinned by the reference implementation's test vectors.
    /// </summary>
    public static ulong HashKey(ReadOnlySpan<byte> key) => XxHash64.HashToUInt64(key);

    public PartitionId PartitionOf(ReadOnlySpan<byte> key) => PartitionOfHash(HashKey(key));

    public PartitionId PartitionOfHash(ulong keyHash) => new((int)(keyHash >> (64 - PartitionBits)));

    /// <summary>The first hash that belongs to <paramref name="partition"/>.</summary>
    public ulong FirstHashOf(PartitionId partition) => (ulong)partition.Value << (64 - PartitionBits);

    /// <summary>The last hash that belongs to <paramref name="partition"/> (inclusive).</summary>
    public ulong LastHashOf(PartitionId partition) => FirstHashOf(partition) + ((1UL << (64 - PartitionBits)) - 1);
}
