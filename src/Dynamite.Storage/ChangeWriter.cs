namespace Dynamite.Storage;

/// <summary>
/// Applies a group's staged changes for a durable engine's writer, on the writer thread: newest first, so a key changed
/// twice in one group is written once, and each change learns what the key held before it, which is what keeps the
/// key counters exact (and, where the engine has one, the expiry index in step with the data). A key the group's
/// operations already read (a replica's merge reads before it writes) is not looked up again: only the writer thread
/// writes, so what the read found still holds. Each engine supplies the writing of one change (<see cref="Apply(StagedChange, StoredKeyState?)"/>).
/// </summary>
internal abstract class ChangeWriter
{
    /// <summary>The scratch buffer's first size; one larger than <see cref="RetainedScratchBytes"/> (a large value went
    /// through) is dropped after the group.</summary>
    private const int InitialScratchBytes = 4096;

    private const int RetainedScratchBytes = 1 << 20;

    private readonly HashSet<byte[]> _appliedKeys = new(ByteArrayComparer.Instance);
    private byte[] _scratch = [];

    /// <summary>Applies the surviving changes of <paramref name="group"/> (the last change of each key wins) and returns
    /// how the key and expiry counters move when they are committed.</summary>
    public (long KeyDelta, long ExpiryDelta) Apply(BatchTransaction group)
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

                StoredKeyState before = Apply(change, group.TryGetStoredState(change.Key, out StoredKeyState read) ? read : null);
                int hadExpiry = before.Expiry != 0 ? 1 : 0;
                if (change.Record is { } record)
                {
                    keyDelta += before.Stored ? 0 : 1;
                    expiryDelta += (record.HasExpiry ? 1 : 0) - hadExpiry;
                }
                else if (before.Stored)
                {
                    keyDelta--;
                    expiryDelta -= hadExpiry;
                }
            }
        }
        finally
        {
            _appliedKeys.Clear();
            if (_scratch.Length > RetainedScratchBytes)
            {
                _scratch = [];
            }
        }

        return (keyDelta, expiryDelta);
    }

    /// <summary>
    /// Writes one change (a set, or a delete when <see cref="StagedChange.Record"/> is null) and returns what the key
    /// held before it. <paramref name="known"/> is that state when the group read the key (no need to look it up
    /// again), null when it did not.
    /// </summary>
    protected abstract StoredKeyState Apply(StagedChange change, StoredKeyState? known);

    /// <summary>A buffer of <paramref name="length"/> bytes for encoding one change's keys and value; valid until the
    /// next call. Engines that copy what they are given (RocksDB's batch, LMDB's pages) need only this one.</summary>
    protected Span<byte> Scratch(int length)
    {
        if (_scratch.Length < length)
        {
            _scratch = new byte[Math.Max(length, Math.Max(InitialScratchBytes, _scratch.Length * 2))];
        }

        return _scratch.AsSpan(0, length);
    }
}
