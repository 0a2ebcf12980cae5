using Dynamite.Core.KeyValue;

namespace Dynamite.Storage.RocksDb;

/// <summary>
/// The view every operation of one group commit runs against. Reads see the database as last written (only the
/// writer thread writes, so a plain read is the committed state) overlaid with <see cref="Changes"/>: the staged
/// changes of the earlier operations of the group and the operation's own. That overlay makes a group commit
/// equivalent to running the operations one after another. Writes are only staged; the writer turns the surviving
/// changes into one <see cref="RocksDbSharp.WriteBatch"/> when the group commits. Used only on the writer thread.
/// </summary>
internal sealed class RocksDbBatchTransaction(RocksDbStore store) : IStorageTransaction
{
    public StagedChanges Changes { get; } = new();

    public long NowUnixMs { get; set; }

    public bool TryRead(ReadOnlySpan<byte> key, out StoredRecord record)
    {
        if (Changes.TryFind(key, out StagedChange change))
        {
            if (change.Record is { } staged && !staged.IsExpiredAt(NowUnixMs))
            {
                record = staged;
                return true;
            }

            record = default;
            return false;
        }

        return store.TryReadKey(key, NowUnixMs, out record);
    }

    public void Write(byte[] key, StoredRecord record)
    {
        // Checked here, inside the operation, so a bad write fails that operation alone rather than the group.
        ArgumentNullException.ThrowIfNull(key);
        if (record.Value is null)
        {
            throw new ArgumentException("A stored record needs a value array.", nameof(record));
        }

        Changes.Stage(key, record);
    }

    public void Delete(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Changes.Stage(key, null);
    }
}
