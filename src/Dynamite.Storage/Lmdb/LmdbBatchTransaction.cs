using Dynamite.Core.KeyValue;
using LightningDB;

namespace Dynamite.Storage.Lmdb;

/// <summary>
/// The view every operation of one group commit runs against: the group's LMDB write transaction, which nothing has
/// been written to yet (only the writer writes, and it applies the group only when the group commits), so it reads
/// the committed state, overlaid with <see cref="Changes"/>: the staged changes of the earlier operations of the group
/// and the operation's own. That overlay makes a group commit equivalent to running the operations one after another.
/// Writes are only staged; the writer applies the surviving changes in that one transaction and commits once.
/// Used only on the writer thread.
/// </summary>
internal sealed class LmdbBatchTransaction(LmdbStore store) : IStorageTransaction
{
    public StagedChanges Changes { get; } = new();

    public long NowUnixMs { get; set; }

    /// <summary>The group's write transaction; set by the writer before the group's first operation runs.</summary>
    public LightningTransaction? Transaction { get; set; }

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

        LightningTransaction transaction = Transaction ?? throw new InvalidOperationException("The writer has no write transaction open.");
        return store.TryReadKey(transaction, key, NowUnixMs, out record);
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
