using System.Buffers.Binary;
using Dynamite.Core.HyperLogLogs;
using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp.Commands.HyperLogLogOperations;

/// <summary>
/// PFCOUNT of one key on a standalone node, as redis-server runs it: the count is computed from the sketch and, when
/// the header's cached count was stale, written into the header (its expiry kept), so the next PFCOUNT answers from
/// the cache. A cluster node does not run this: there PFCOUNT is a read, since writing the cache back would make every
/// count a replicated write (README, differential table).
/// </summary>
internal sealed class PfCountCacheOperation(byte[] key) : IStorageOperation
{
    public int TouchedKeyCount => 1;

    public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

    public SketchOutcome Outcome { get; private set; }

    public long Count { get; private set; }

    public void Execute(IStorageTransaction transaction)
    {
        Outcome = SketchOutcome.Ok;
        Count = 0;
        if (!transaction.TryRead(key, out StoredRecord record))
        {
            return;
        }

        if (!record.IsTypedHeader && HyperLogLog.IsSketch(record.Value) && HyperLogLog.TryReadCachedCount(record.Value, out long cached))
        {
            Count = cached;
            return;
        }

        byte[] registers = new byte[HyperLogLog.RegisterCount];
        bool dense = false;
        Outcome = PfMergeOperation.Merge(record, registers, ref dense);
        if (Outcome != SketchOutcome.Ok)
        {
            return;
        }

        Count = HyperLogLog.Count(registers);
        byte[] updated = (byte[])record.Value.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(updated.AsSpan(8, 8), (ulong)Count);
        transaction.Write(key, new StoredRecord(updated, record.ExpiresAtUnixMs));
    }
}
