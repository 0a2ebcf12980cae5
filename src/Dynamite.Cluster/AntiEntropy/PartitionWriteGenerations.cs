using Dynamite.Cluster.Replication;
using Dynamite.Core.Partitioning;

namespace Dynamite.Cluster.AntiEntropy;

/// <summary>
/// Counts the committed writes of each partition, so the tombstone collector can skip a partition nothing was
/// written to since a pass found it free of tombstones. Without it every anti-entropy round read and decoded
/// every record of every partition this node collects: on an idle node holding 100,000 keys, about a core-second
/// a minute spent finding nothing.
/// <para>
/// A partition is known clean at the generation a pass read before it started scanning and found no tombstone.
/// Any write since (a tombstone or not: telling them apart would cost a decode per write) makes it unknown
/// again. Removals never create tombstones and are not counted. After a restart every partition is unknown.
/// </para>
/// Thread-safety: writes are counted from any thread; passes run one partition at a time.
/// </summary>
public sealed class PartitionWriteGenerations : IReplicaWriteListener
{
    private const long Unknown = -1;

    private readonly KeyPartitioner _partitioner;
    private readonly long[] _writes;
    private readonly long[] _cleanAt;

    public PartitionWriteGenerations(KeyPartitioner partitioner)
    {
        ArgumentNullException.ThrowIfNull(partitioner);
        _partitioner = partitioner;
        _writes = new long[partitioner.PartitionCount];
        _cleanAt = new long[partitioner.PartitionCount];
        Array.Fill(_cleanAt, Unknown);
    }

    /// <summary>The partition's write count now: read it before a pass scans the partition.</summary>
    public long Current(PartitionId partition) => Volatile.Read(ref _writes[partition.Value]);

    /// <summary>False only when nothing was written to the partition since a pass found no tombstone in it.</summary>
    public bool MayHoldTombstones(PartitionId partition) =>
        Volatile.Read(ref _cleanAt[partition.Value]) != Volatile.Read(ref _writes[partition.Value]);

    /// <summary>A pass that started at <paramref name="generation"/> (<see cref="Current"/>) found no tombstone.</summary>
    public void MarkClean(PartitionId partition, long generation) => Volatile.Write(ref _cleanAt[partition.Value], generation);

    public void OnWritten(byte[] key, byte[]? previousEncoded, byte[] writtenEncoded) => CountWrite(key);

    public void OnTypedKeyWritten(byte[] key, byte[]? previousRecord, byte[]? writtenRecord) => CountWrite(key);

    public void OnRemoved(byte[] key, byte[] previousEncoded)
    {
    }

    private void CountWrite(byte[] key) => Interlocked.Increment(ref _writes[_partitioner.PartitionOfHash(KeyPartitioner.HashKey(key)).Value]);
}
