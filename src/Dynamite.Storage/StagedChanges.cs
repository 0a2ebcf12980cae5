using System.Runtime.InteropServices;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;

namespace Dynamite.Storage;

/// <summary>
/// The writes an operation (or a batch of operations) staged, in order, with the latest change per key
/// findable for reads. Small batches use a linear search; larger ones switch to a dictionary.
/// Not thread-safe: owned by the one thread executing operations.
/// </summary>
public sealed class StagedChanges
{
    private const int DictionaryThreshold = 16;
    private readonly List<StagedChange> _changes = [];
    private Dictionary<byte[], int>? _latestIndexByKey;

    public int Count => _changes.Count;

    /// <summary>The staged changes in order; valid until the next change is staged or the changes are cleared. A span, so
    /// the engines' per-write loops over it allocate nothing.</summary>
    public ReadOnlySpan<StagedChange> Changes => CollectionsMarshal.AsSpan(_changes);

    public void Stage(byte[] key, StoredRecord? record)
    {
        _changes.Add(new StagedChange(key, KeyPartitioner.HashKey(key), record));
        if (_latestIndexByKey is not null)
        {
            _latestIndexByKey[key] = _changes.Count - 1;
        }
        else if (_changes.Count > DictionaryThreshold)
        {
            _latestIndexByKey = new Dictionary<byte[], int>(ByteArrayComparer.Instance);
            for (int i = 0; i < _changes.Count; i++)
            {
                _latestIndexByKey[_changes[i].Key] = i;
            }
        }
    }

    /// <summary>Finds the latest staged change of <paramref name="key"/>.</summary>
    public bool TryFind(ReadOnlySpan<byte> key, out StagedChange change)
    {
        if (_latestIndexByKey is not null)
        {
            var lookup = _latestIndexByKey.GetAlternateLookup<ReadOnlySpan<byte>>();
            if (lookup.TryGetValue(key, out int index))
            {
                change = _changes[index];
                return true;
            }
        }
        else
        {
            for (int i = _changes.Count - 1; i >= 0; i--)
            {
                if (key.SequenceEqual(_changes[i].Key))
                {
                    change = _changes[i];
                    return true;
                }
            }
        }

        change = default;
        return false;
    }

    /// <summary>
    /// What a read of <paramref name="key"/> finds among the staged changes at <paramref name="nowUnixMs"/>: null when none
    /// is staged for it (the committed state decides); else whether its latest change leaves a live record, then in
    /// <paramref name="record"/>.
    /// </summary>
    public bool? TryReadLive(ReadOnlySpan<byte> key, long nowUnixMs, out StoredRecord record)
    {
        record = default;
        if (!TryFind(key, out StagedChange change))
        {
            return null;
        }

        if (change.Record is { } staged && !staged.IsExpiredAt(nowUnixMs))
        {
            record = staged;
            return true;
        }

        return false;
    }

    /// <summary>Drops the changes from position <paramref name="count"/> on (an operation that threw).</summary>
    public void TruncateTo(int count)
    {
        if (count == _changes.Count)
        {
            return;
        }

        _changes.RemoveRange(count, _changes.Count - count);
        if (_latestIndexByKey is not null)
        {
            _latestIndexByKey.Clear();
            for (int i = 0; i < _changes.Count; i++)
            {
                _latestIndexByKey[_changes[i].Key] = i;
            }
        }
    }

    public void Clear()
    {
        _changes.Clear();
        _latestIndexByKey = null;
    }
}

/// <summary>One staged write (<see cref="Record"/> set) or delete (<see cref="Record"/> null).</summary>
public readonly record struct StagedChange(byte[] Key, ulong KeyHash, StoredRecord? Record);
