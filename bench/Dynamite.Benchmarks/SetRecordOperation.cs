using Dynamite.Core.KeyValue;

namespace Dynamite.Benchmarks;

/// <summary>
/// A plain single-key SET, as the engine sees it: one staged write of arrays the caller owns. Reused across
/// operations so the storage benchmark measures the engine's own cost, not the command layer's copies
/// (the command-path benchmark measures those).
/// </summary>
public sealed class SetRecordOperation(byte[] key, byte[] value) : IStorageOperation
{
    public int TouchedKeyCount => 1;

    public bool IsBlindWrite => true;

    public byte[] GetTouchedKey(int index) => key;

    public void Execute(IStorageTransaction transaction) => transaction.Write(key, new StoredRecord(value, 0));
}
