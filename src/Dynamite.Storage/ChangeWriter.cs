using Dynamite.Core.KeyValue;
namespace Dynamite.Storage;

/// <summary>
/// Applies a group's staged changes for a durable engine's writer, on the writer thread: newest first, so a key changed
/// twice in one group is written once, and each change learns what the key held before it, which is what keeps the
/// key counters exact (and, where the engine has one, the expiry index in step with the data). A key the group's
/// operations already read (a replica's merge reads before it writes) is not looked up again: only the writer thread
/// writes, so what the read found still holds. Each engine supplies the writing of one change (<see cref="Apply(StagedChange, StoredKeyState?)"/>).
/// <para>
/// Element changes are written after the records (the two keyspaces are independent), oldest first, as staged: a delete
/// of all of a key's elements must come before the writes staged after it, since it deletes whatever the engine holds
/// for the key when it runs (a RocksDB range tombstone covers what the same batch put before it). A change made moot by
/// a newer one (a newer change of the same element, or a newer delete of all the key's elements) is skipped, so an
/// element changed many times in one group is written once. Each engine supplies the three element writes. Index entries
/// (<see cref="IStorageTransaction.KeepsIndex"/>) follow the elements in the same way, through three writes of their own.
/// </para>
/// </summary>
internal abstract class ChangeWriter
{
    /// <summary>The scratch buffer's first size; one larger than <see cref="RetainedScratchBytes"/> (a large value went
    /// through) is dropped after the group.</summary>
    private const int InitialScratchBytes = 4096;

    private const int RetainedScratchBytes = 1 << 20;

    private readonly HashSet<byte[]> _appliedKeys = new(ByteArrayComparer.Instance);

    // Element changes of the group: those that survive, newest first, and what the newest-first pass has seen.
    private readonly List<int> _survivingElementChanges = [];
    private readonly HashSet<byte[]> _keysDeletedLater = new(ByteArrayComparer.Instance);
    private readonly HashSet<StagedElementChange> _elementsChangedLater = new(SameElement.Instance);
    private byte[] _scratch = [];

    /// <summary>Applies the surviving changes of <paramref name="group"/> (the last change of each key wins) and returns
    /// how the key and expiry counters move when they are committed.</summary>
    public (long KeyDelta, long ExpiryDelta) Apply(BatchTransaction group)
    {
        ReadOnlySpan<StagedChange> changes = group.Changes.Changes;
        bool deduplicate = changes.Length > 1;
        long keyDelta = 0;
        long expiryDelta = 0;
        try
        {
            for (int i = changes.Length - 1; i >= 0; i--)
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

            ApplyElements(group.ElementChanges.Changes, index: false);
            ApplyElements(group.IndexChanges.Changes, index: true);
        }
        finally
        {
            _appliedKeys.Clear();
            ClearElementPass();
            if (_scratch.Length > RetainedScratchBytes)
            {
                _scratch = [];
            }

            EndApply();
        }

        return (keyDelta, expiryDelta);
    }

    /// <summary>
    /// Writes one change (a set, or a delete when <see cref="StagedChange.Record"/> is null) and returns what the key
    /// held before it. <paramref name="known"/> is that state when the group read the key (no need to look it up
    /// again), null when it did not.
    /// </summary>
    protected abstract StoredKeyState Apply(StagedChange change, StoredKeyState? known);

    /// <summary>Writes element <see cref="StagedElementChange.Element"/> of the change's key with its value.</summary>
    protected abstract void WriteElement(StagedElementChange change);

    /// <summary>Deletes element <see cref="StagedElementChange.Element"/> of the change's key (absent: nothing to do).</summary>
    protected abstract void DeleteElement(StagedElementChange change);

    /// <summary>Deletes every element the change's key has when this runs.</summary>
    protected abstract void DeleteAllElements(StagedElementChange change);

    /// <summary>Writes index entry <see cref="StagedElementChange.Element"/> of the change's key (its value is empty).</summary>
    protected abstract void WriteIndexEntry(StagedElementChange change);

    /// <summary>Deletes index entry <see cref="StagedElementChange.Element"/> of the change's key (absent: nothing to do).</summary>
    protected abstract void DeleteIndexEntry(StagedElementChange change);

    /// <summary>Deletes every index entry the change's key has when this runs.</summary>
    protected abstract void DeleteAllIndexEntries(StagedElementChange change);

    /// <summary>Called once the group's changes are applied, or failed: frees what the element writes held for the group.</summary>
    protected virtual void EndApply()
    {
    }

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

    /// <summary>Applies the element (or, with <paramref name="index"/>, index entry) changes that survive (see the class
    /// summary), oldest first. Index entries are elements of a keyspace of their own, so the same pass serves both.</summary>
    private void ApplyElements(ReadOnlySpan<StagedElementChange> changes, bool index)
    {
        ClearElementPass();
        bool deduplicate = changes.Length > 1;
        for (int i = changes.Length - 1; i >= 0; i--)
        {
            StagedElementChange change = changes[i];
            if (deduplicate)
            {
                if (_keysDeletedLater.Contains(change.Key))
                {
                    continue;
                }

                if (change.DeletesAll)
                {
                    _keysDeletedLater.Add(change.Key);
                }
                else if (!_elementsChangedLater.Add(change))
                {
                    continue;
                }
            }

            _survivingElementChanges.Add(i);
        }

        for (int i = _survivingElementChanges.Count - 1; i >= 0; i--)
        {
            StagedElementChange change = changes[_survivingElementChanges[i]];
            switch ((change.DeletesAll, change.Value is null, index))
            {
                case (true, _, false):
                    DeleteAllElements(change);
                    break;
                case (true, _, true):
                    DeleteAllIndexEntries(change);
                    break;
                case (false, true, false):
                    DeleteElement(change);
                    break;
                case (false, true, true):
                    DeleteIndexEntry(change);
                    break;
                case (false, false, false):
                    WriteElement(change);
                    break;
                default:
                    WriteIndexEntry(change);
                    break;
            }
        }
    }

    private void ClearElementPass()
    {
        _survivingElementChanges.Clear();
        _keysDeletedLater.Clear();
        _elementsChangedLater.Clear();
    }

    /// <summary>Element changes are equal when they change the same element of the same key.</summary>
    private sealed class SameElement : IEqualityComparer<StagedElementChange>
    {
        public static SameElement Instance { get; } = new();

        public bool Equals(StagedElementChange x, StagedElementChange y) =>
            x.Key.AsSpan().SequenceEqual(y.Key) && x.Element.AsSpan().SequenceEqual(y.Element);

        public int GetHashCode(StagedElementChange obj)
        {
            var hash = new HashCode();
            hash.Add(obj.KeyHash);
            hash.AddBytes(obj.Element);
            return hash.ToHashCode();
        }
    }
}
