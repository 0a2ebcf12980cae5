using Dynamite.Core.KeyValue;

namespace Dynamite.Storage;

/// <summary>
/// The view every operation of one group commit runs against, for the durable engines' writers
/// (<see cref="GroupCommitWriter"/>). Reads see the committed database overlaid with <see cref="StagedTransaction.Changes"/>: the
/// staged changes of the earlier operations of the group and the operation's own. That overlay is what makes a group
/// commit equivalent to running the operations one after another. Writes are only staged; the writer applies the
/// surviving changes when the group commits. Each engine supplies only the read of the committed state
/// (<see cref="TryReadStored"/>, <see cref="StagedTransaction.StoredElements"/>); the engine's <see cref="RecordCache"/> answers key
/// reads first. Used only on the writer thread.
/// </summary>
internal abstract class BatchTransaction(RecordCache cache) : StagedTransaction
{
    // What the group's reads found stored for each key they read from the database: the change writer needs exactly
    // that for the key counters (and the expiry index), and would otherwise look each key up a second time. Valid for
    // one group only: the writer clears it with the changes (ClearGroup).
    private readonly Dictionary<byte[], StoredKeyState> _storedStates = new(ByteArrayComparer.Instance);

    public override bool TryRead(ReadOnlySpan<byte> key, out StoredRecord record)
    {
        if (Changes.TryReadLive(key, NowUnixMs, out record) is { } staged)
        {
            return staged;
        }

        bool stored;
        long storedExpiry;
        StoredRecord? live;
        if (cache.TryGet(key, out CachedRecord cached))
        {
            // The cache holds the committed state, and only this thread commits.
            stored = cached.IsStored;
            storedExpiry = cached.ExpiresAtUnixMs;
            live = cached.TryGetLive(NowUnixMs, out StoredRecord found) ? found : null;
        }
        else
        {
            stored = TryReadStored(key, out storedExpiry, out live);
        }

        _storedStates.GetAlternateLookup<ReadOnlySpan<byte>>().TryAdd(key, new StoredKeyState(stored, storedExpiry));
        record = live.GetValueOrDefault();
        return live.HasValue;
    }

    /// <summary>What the database held under <paramref name="key"/> when this group first read it; false if the group never read it.</summary>
    public bool TryGetStoredState(byte[] key, out StoredKeyState state) => _storedStates.TryGetValue(key, out state);

    /// <summary>Forgets the group: its staged changes and what its reads found.</summary>
    public void ClearGroup()
    {
        ClearStaged();
        _storedStates.Clear();
    }

    /// <summary>
    /// Reads the committed state of the user key <paramref name="key"/>: true if a record is stored (expired or not),
    /// with its expiry in <paramref name="storedExpiry"/> (0 when none or absent), and the record in
    /// <paramref name="liveRecord"/> if it is live at <see cref="StagedTransaction.NowUnixMs"/>.
    /// </summary>
    protected abstract bool TryReadStored(ReadOnlySpan<byte> key, out long storedExpiry, out StoredRecord? liveRecord);
}
