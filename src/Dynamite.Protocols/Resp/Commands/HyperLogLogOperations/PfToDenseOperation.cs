using Dynamite.Core.HyperLogLogs;
using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp.Commands.HyperLogLogOperations;

/// <summary>PFDEBUG TODENSE key: rewrites a sparse sketch dense (same registers, cached count and expiry).</summary>
internal sealed class PfToDenseOperation(byte[] key) : IStorageOperation
{
    public int TouchedKeyCount => 1;

    public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>Missing when the key does not exist; otherwise as the other HyperLogLog commands.</summary>
    public SketchOutcome? Outcome { get; private set; }

    public bool Converted { get; private set; }

    public void Execute(IStorageTransaction transaction)
    {
        Converted = false;
        if (!transaction.TryRead(key, out StoredRecord record))
        {
            Outcome = null;
            return;
        }

        bool dense = false;
        byte[] registers = new byte[HyperLogLog.RegisterCount];
        Outcome = PfMergeOperation.Merge(record, registers, ref dense);
        if (Outcome == SketchOutcome.Ok && !dense)
        {
            transaction.Write(key, new StoredRecord(HyperLogLog.Encode(registers, dense: true, record.Value, changed: false), record.ExpiresAtUnixMs));
            Converted = true;
        }
    }
}
