using Dynamite.Core.KeyValue;

namespace Dynamite.Storage.Sqlite;

/// <summary>
/// The record-level SQL of a group commit (<see cref="ChangeWriter"/>): each surviving change becomes an upsert or a
/// delete in the group's transaction. A set of a key the group did not read first reads its stored expiry; a delete
/// learns it from the row it deleted (<c>RETURNING</c>).
/// </summary>
internal sealed class SqliteChangeWriter(SqliteStatement selectExpiry, SqliteStatement upsert, SqliteStatement deleteReturningExpiry) : ChangeWriter
{
    protected override StoredKeyState Apply(StagedChange change, StoredKeyState? known)
    {
        long hash = SqliteSchema.EncodeHash(change.KeyHash);
        if (change.Record is { } record)
        {
            StoredKeyState before = known ?? ReadState(hash, change.Key);
            Upsert(hash, change.Key, record);
            return before;
        }

        return DeleteKey(hash, change.Key);
    }

    private StoredKeyState ReadState(long hash, byte[] key)
    {
        try
        {
            selectExpiry.BindInt64(1, hash);
            selectExpiry.BindBlob(2, key);
            return selectExpiry.Step() ? new StoredKeyState(true, selectExpiry.GetInt64(0)) : default;
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

    /// <summary>Deletes a key; returns what it held (nothing if it was absent).</summary>
    private StoredKeyState DeleteKey(long hash, byte[] key)
    {
        try
        {
            deleteReturningExpiry.BindInt64(1, hash);
            deleteReturningExpiry.BindBlob(2, key);
            StoredKeyState deleted = default;
            while (deleteReturningExpiry.Step())
            {
                deleted = new StoredKeyState(true, deleteReturningExpiry.GetInt64(0));
            }

            return deleted;
        }
        finally
        {
            deleteReturningExpiry.Reset();
        }
    }
}
