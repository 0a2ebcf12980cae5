using Dynamite.Core.HyperLogLogs;
using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp.Commands.HyperLogLogOperations;

/// <summary>
/// PFADD key element...: creates the sketch when absent (sparse, as redis-server does), raises the registers the
/// elements reach, and writes it back only when a register grew or the key was created, with its cached count marked
/// stale and its expiry kept. On a cluster node this is a read-modify-write with the context read, so a concurrent
/// PFADD through another node becomes a sibling, which reads merge register-wise.
/// </summary>
internal sealed class PfAddOperation(byte[] key, byte[][] elements) : IStorageOperation
{
    public int TouchedKeyCount => 1;

    public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

    public SketchOutcome Outcome { get; private set; }

    /// <summary>Whether a register grew or the key was created (PFADD's 1).</summary>
    public bool Updated { get; private set; }

    public void Execute(IStorageTransaction transaction)
    {
        Updated = false;
        bool exists = transaction.TryRead(key, out StoredRecord current);
        if (exists && current.IsTypedHeader)
        {
            Outcome = SketchOutcome.WrongType;
            return;
        }

        byte[] sketch = exists ? current.Value : HyperLogLog.Empty();
        if (!HyperLogLog.IsSketch(sketch))
        {
            Outcome = SketchOutcome.NotSketch;
            return;
        }

        byte[] registers = new byte[HyperLogLog.RegisterCount];
        if (!HyperLogLog.TryMergeInto(sketch, registers))
        {
            Outcome = SketchOutcome.Corrupt;
            return;
        }

        Outcome = SketchOutcome.Ok;
        bool changed = !exists;
        foreach (byte[] element in elements)
        {
            (int register, byte value) = HyperLogLog.PatternOf(element);
            if (value > registers[register])
            {
                registers[register] = value;
                changed = true;
            }
        }

        if (changed)
        {
            byte[] updated = HyperLogLog.Encode(registers, HyperLogLog.IsDense(sketch), sketch, changed: true);
            transaction.Write(key, new StoredRecord(updated, exists ? current.ExpiresAtUnixMs : 0));
            Updated = true;
        }
    }
}
