using Dynamite.Core.HyperLogLogs;
using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp.Commands.HyperLogLogOperations;

/// <summary>
/// PFMERGE destination source...: the register-wise maximum of the destination and every source (absent ones are
/// empty), written to the destination, dense when any of them was dense, as redis-server merges; the destination's
/// expiry is kept. Nothing is written when a key is not a valid sketch.
/// </summary>
internal sealed class PfMergeOperation(byte[] destination, byte[][] sources) : IStorageOperation
{
    public int TouchedKeyCount => 1 + sources.Length;

    public byte[] GetTouchedKey(int index) => index == 0 ? destination : sources[index - 1];

    public SketchOutcome Outcome { get; private set; }

    public void Execute(IStorageTransaction transaction)
    {
        byte[] registers = new byte[HyperLogLog.RegisterCount];
        bool dense = false;
        for (int i = 0; i < TouchedKeyCount; i++)
        {
            if (!transaction.TryRead(GetTouchedKey(i), out StoredRecord record))
            {
                continue;
            }

            Outcome = Merge(record, registers, ref dense);
            if (Outcome != SketchOutcome.Ok)
            {
                return;
            }
        }

        bool exists = transaction.TryRead(destination, out StoredRecord target);
        byte[] basis = exists ? target.Value : HyperLogLog.Empty();
        byte[] merged = HyperLogLog.Encode(registers, dense || HyperLogLog.IsDense(basis), basis, changed: true);
        transaction.Write(destination, new StoredRecord(merged, exists ? target.ExpiresAtUnixMs : 0));
    }

    /// <summary>Raises <paramref name="registers"/> to one key's sketch.</summary>
    internal static SketchOutcome Merge(StoredRecord record, Span<byte> registers, ref bool dense)
    {
        if (record.IsTypedHeader)
        {
            return SketchOutcome.WrongType;
        }

        if (!HyperLogLog.IsSketch(record.Value))
        {
            return SketchOutcome.NotSketch;
        }

        dense |= HyperLogLog.IsDense(record.Value);
        return HyperLogLog.TryMergeInto(record.Value, registers) ? SketchOutcome.Ok : SketchOutcome.Corrupt;
    }
}
