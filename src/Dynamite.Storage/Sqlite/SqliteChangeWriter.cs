using Dynamite.Core.KeyValue;

namespace Dynamite.Storage.Sqlite;

/// <summary>
/// The record-level SQL of a group commit (<see cref="ChangeWriter"/>): each surviving change becomes an upsert or a
/// delete in the group's transaction. A set of a key the group did not read first reads its stored expiry; a delete
/// learns it from the row it deleted (<c>RETURNING</c>). Element changes become upserts and deletes of
/// <c>elements</c> rows in the same transaction, index entry changes of <c>index_entries</c> rows.
/// </summary>
internal sealed class SqliteChangeWriter(
    SqliteIndexEntries indexEntries,
    SqliteStatement selectExpiry,
    SqliteStatement upsert,
    SqliteStatement deleteReturningExpiry,
    SqliteStatement upsertElement,
    SqliteStatement deleteElement,
    SqliteStatement deleteKeyElements) : ChangeWriter
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

    protected override void WriteElement(StagedElementChange change)
    {
        upsertElement.BindInt64(1, SqliteSchema.EncodeHash(change.KeyHash));
        upsertElement.BindBlob(2, change.Key);
        upsertElement.BindBlob(3, change.Element);
        upsertElement.BindBlob(4, change.Value);
        upsertElement.Execute();
    }

    protected override void DeleteElement(StagedElementChange change)
    {
        deleteElement.BindInt64(1, SqliteSchema.EncodeHash(change.KeyHash));
        deleteElement.BindBlob(2, change.Key);
        deleteElement.BindBlob(3, change.Element);
        deleteElement.Execute();
    }

    protected override void DeleteAllElements(StagedElementChange change)
    {
        deleteKeyElements.BindInt64(1, SqliteSchema.EncodeHash(change.KeyHash));
        deleteKeyElements.BindBlob(2, change.Key);
        deleteKeyElements.Execute();
    }

    protected override void WriteIndexEntry(StagedElementChange change) => indexEntries.Write(change);

    protected override void DeleteIndexEntry(StagedElementChange change) => indexEntries.Delete(change);

    protected override void DeleteAllIndexEntries(StagedElementChange change) => indexEntries.DeleteKey(change);

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
        upsert.BindInt64(5, (long)record.Kind);
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
