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
    // What the group's reads found stored for each key they read from the database (present or not, and the expiry):
    // the change writer needs exactly that for the counters and the expiry index, and would otherwise read each key a
    // second time. Valid for one group only: the writer clears it with the changes (ClearGroup).
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

        bool stored = store.TryReadStoredKey(key, NowUnixMs, out long storedExpiry, out StoredRecord? live);
        _storedStates.GetAlternateLookup<ReadOnlySpan<byte>>().TryAdd(key, (stored, storedExpiry));
        record = live.GetValueOrDefault();
        return live.HasValue;
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
