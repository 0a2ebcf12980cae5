using Dynamite.Core.KeyValue;

namespace Dynamite.Storage.Sqlite;

/// <summary>
/// The record-level SQL of a group commit, on the writer thread: each staged change becomes an upsert or a delete,
/// newest first so a key changed twice in one group is written once, with the key and expiry counts it moves.
/// </summary>
internal sealed class SqliteChangeWriter(SqliteStatement selectExpiry, SqliteStatement upsert, SqliteStatement deleteReturningExpiry)
{
    private readonly HashSet<byte[]> _appliedKeys = new(ByteArrayComparer.Instance);

    /// <summary>Applies a group's surviving changes (the last change of each key wins) and returns the key and expiry count deltas.</summary>
    public (long KeyDelta, long ExpiryDelta) Apply(SqliteBatchTransaction group)
    {
        IReadOnlyList<StagedChange> changes = group.Changes.Changes;
        bool deduplicate = changes.Count > 1;
        long keyDelta = 0;
        long expiryDelta = 0;
        try
        {
            for (int i = changes.Count - 1; i >= 0; i--)
            {
                StagedChange change = changes[i];
                if (deduplicate && !_appliedKeys.Add(change.Key))
                {
                    continue;
                }

                long hash = SqliteSchema.EncodeHash(change.KeyHash);
                if (change.Record is { } record)
                {
                    // A key the group read is not looked up again: only this thread writes, so what it found still holds.
                    long? previousExpiry = group.TryGetStoredState(change.Key, out bool stored, out long storedExpiry)
                        ? (stored ? storedExpiry : null)
                        : ReadExpiry(hash, change.Key);
                    Upsert(hash, change.Key, record);
                    keyDelta += previousExpiry is null ? 1 : 0;
                    expiryDelta += (record.HasExpiry ? 1 : 0) - (previousExpiry is { } previous && previous != 0 ? 1 : 0);
                }
                else if (DeleteKey(hash, change.Key) is { } deletedExpiry)
                {
                    keyDelta--;
                    expiryDelta -= deletedExpiry != 0 ? 1 : 0;
                }
            }
        }
        finally
        {
            _appliedKeys.Clear();
        }

        return (keyDelta, expiryDelta);
    }

    private long? ReadExpiry(long hash, byte[] key)
    {
        try
        {
            selectExpiry.BindInt64(1, hash);
            selectExpiry.BindBlob(2, key);
            return selectExpiry.Step() ? selectExpiry.GetInt64(0) : null;
        }
        finally
        {
            selectExpiry.Reset();
        }
    }

    private void Upsert(long hash, byte[] key, StoredRecord record)
    {
        upsert.BindInt64(1, hash);
        upsert.BindBlob(2, key);
        upsert.BindInt64(3, record.ExpiresAtUnixMs);
        upsert.BindBlob(4, record.Value);
        upsert.Execute();
    }

    /// <summary>Deletes a key; returns its expiry if it existed, null if it did not.</summary>
    private long? DeleteKey(long hash, byte[] key)
    {
        try
        {
            deleteReturningExpiry.BindInt64(1, hash);
            deleteReturningExpiry.BindBlob(2, key);
            long? deletedExpiry = null;
            while (deleteReturningExpiry.Step())
            {
                deletedExpiry = deleteReturningExpiry.GetInt64(0);
            }

            return deletedExpiry;
        }
        finally
        {
            deleteReturningExpiry.Reset();
        }
    }
}
