using Dynamite.Core.KeyValue;

namespace Dynamite.Cluster.Tests.Replication;

/// <summary>Writes bytes under a key as they are, bypassing the versioned encoding (to plant corrupt records).</summary>
internal sealed class RawWriteOperation(byte[] key, byte[] value, long expiresAtUnixMs = 0) : IStorageOperation
{
    public int TouchedKeyCount => 1;

    public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

    public void Execute(IStorageTransaction transaction) => transaction.Write(key, new StoredRecord(value, expiresAtUnixMs));
}
