using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;

namespace Dynamite.Storage.Sqlite;

/// <summary>
/// The view every operation of one group commit runs against. Reads see the committed database (through the
/// writer's connection, inside the group's transaction) overlaid with <see cref="Changes"/>: the staged changes
/// of the earlier operations of the group and the operation's own. That overlay is what makes a group commit
/// equivalent to running the operations one after another. Writes are only staged; the writer applies the
/// surviving changes when the group commits. Used only on the writer thread.
/// </summary>
internal sealed class SqliteBatchTransaction(SqliteStatement selectRecord) : IStorageTransaction
{
    // What the group's reads found stored for each key they read from the database (present or not, and the expiry):
    // the change writer needs exactly that for the key counters, and would otherwise look each key up a second
    // time. Valid for one group only: the writer clears it with the changes (ClearGroup).
    private readonly Dictionary<byte[], (bool Stored, long Expiry)> _storedStates = new(ByteArrayComparer.Instance);

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

        try
        {
            selectRecord.BindInt64(1, SqliteSchema.EncodeHash(KeyPartitioner.HashKey(key)));
            selectRecord.BindBlob(2, key);
            bool stored = selectRecord.Step();
            long expiresAt = stored ? selectRecord.GetInt64(0) : 0;
            _storedStates.GetAlternateLookup<ReadOnlySpan<byte>>().TryAdd(key, (stored, expiresAt));
            if (stored && (expiresAt == 0 || expiresAt > NowUnixMs))
            {
                record = new StoredRecord(selectRecord.GetBlob(1).ToArray(), expiresAt);
                return true;
            }
        }
        finally
        {
            selectRecord.Reset();
        }

        record = default;
        return false;
    }

    /// <summary>What the database held under <paramref name="key"/> when this group first read it; false if the group never read it.</summary>
    public bool TryGetStoredState(byte[] key, out bool stored, out long storedExpiry)
    {
        if (_storedStates.TryGetValue(key, out (bool Stored, long Expiry) state))
        {
            (stored, storedExpiry) = state;
            return true;
        }

        stored = false;
        storedExpiry = 0;
        return false;
    }

    /// <summary>Forgets the group: its staged changes and what its reads found.</summary>
    public void ClearGroup()
    {
        Changes.Clear();
        _storedStates.Clear();
    }

    public void Write(byte[] key, StoredRecord record)
    {
        // Checked here, inside the operation, so a bad write fails that operation alone rather than the
        // constraint failing the whole group at commit.
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
