using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;

namespace Dynamite.Storage;

/// <summary>
/// The element changes an operation (or a group of operations) staged, in order, and the reads that overlay them on
/// the committed elements, so an operation sees its own writes (<see cref="IStorageTransaction"/>): the latest change
/// of an element decides it, and a delete of all of a key's elements hides every committed element and every older
/// staged one. A scan merges the key's staged changes into a bounded read of its committed elements. Small batches
/// search the list; larger ones keep a per-key index (as <see cref="StagedChanges"/> does for records).
/// Not thread-safe: owned by the one thread executing operations.
/// </summary>
internal sealed class StagedElementChanges
{
    private const int IndexThreshold = 16;

    private readonly List<StagedElementChange> _changes = [];
    private Dictionary<byte[], KeyChanges>? _index;

    /// <summary>What the staged changes say about one element.</summary>
    private enum StagedState
    {
        /// <summary>Nothing staged: the committed element decides.</summary>
        NotStaged,
        Written,
        Deleted,
    }

    public int Count => _changes.Count;

    /// <summary>The staged changes in order; valid until the next change is staged or the changes are cleared (a span:
    /// the per-write loops over it allocate nothing).</summary>
    public ReadOnlySpan<StagedElementChange> Changes => CollectionsMarshal.AsSpan(_changes);

    /// <summary>Stages a write; the arguments are checked here, inside the operation, so a bad one fails it alone.</summary>
    public void StageWrite(byte[] key, byte[] element, byte[] value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(element);
        ArgumentNullException.ThrowIfNull(value);
        Stage(new StagedElementChange(key, KeyPartitioner.HashKey(key), element, value));
    }

    public void StageDelete(byte[] key, byte[] element)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(element);
        Stage(new StagedElementChange(key, KeyPartitioner.HashKey(key), element, null));
    }

    public void StageDeleteAll(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Stage(new StagedElementChange(key, KeyPartitioner.HashKey(key), null, null));
    }

    /// <summary>Reads an element through the staged changes, from <paramref name="committed"/> when none touched it.</summary>
    public bool TryRead(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, IElementReader committed, [MaybeNullWhen(false)] out byte[] value)
    {
        switch (Find(key, element, out byte[]? staged))
        {
            case StagedState.Written:
                value = staged!;
                return true;
            case StagedState.Deleted:
                value = null;
                return false;
            default:
                return committed.TryReadElement(key, element, out value);
        }
    }

    /// <summary>
    /// A page of <paramref name="key"/>'s elements after <paramref name="afterElement"/> as the staged changes leave
    /// them (what <c>IStorageTransaction.ScanElements</c> returns). Each staged element hides at most one committed element,
    /// so reading <c>limit + 1 + staged</c> committed elements leaves at least <c>limit + 1</c> visible ones up to the
    /// last one read whenever more committed elements remain: the page below that name is exact, and more remain.
    /// </summary>
    public ElementPage Scan(ReadOnlySpan<byte> key, byte[]? afterElement, int limit, IElementReader committed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        List<(byte[] Name, byte[]? Value)>? staged = CollectForScan(key, afterElement, null, out bool deletedAll);
        if (staged is null)
        {
            var elements = new List<StoredElement>(Math.Min(limit, ElementNames.InitialPageCapacity));
            bool more = committed.ReadElements(key, afterElement, limit, elements);
            return new ElementPage(elements, more);
        }

        var stored = new List<StoredElement>();
        bool storedHasMore = !deletedAll && committed.ReadElements(key, afterElement, ReadAround(limit, staged), stored);
        return Merge(stored, storedHasMore, staged, limit, direction: 1);
    }

    /// <summary>
    /// A page of <paramref name="key"/>'s elements before <paramref name="beforeElement"/> (null: from the last), last
    /// first, as the staged changes leave them (what <c>IStorageTransaction.ScanElementsBackward</c> returns): the
    /// mirror of <see cref="Scan"/>, reading <c>limit + 1 + staged</c> committed elements backwards when changes are staged.
    /// </summary>
    public ElementPage ScanBackward(ReadOnlySpan<byte> key, byte[]? beforeElement, int limit, IElementReader committed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        List<(byte[] Name, byte[]? Value)>? staged = CollectForScan(key, null, beforeElement, out bool deletedAll);
        if (staged is null)
        {
            var elements = new List<StoredElement>(Math.Min(limit, ElementNames.InitialPageCapacity));
            bool more = committed.ReadElementsBackward(key, beforeElement, limit, elements);
            return new ElementPage(elements, more);
        }

        staged.Reverse();
        var stored = new List<StoredElement>();
        bool storedHasMore = !deletedAll && committed.ReadElementsBackward(key, beforeElement, ReadAround(limit, staged), stored);
        return Merge(stored, storedHasMore, staged, limit, direction: -1);
    }

    /// <summary>Each staged change hides at most one committed element: this many committed ones leave a full page visible.</summary>
    private static int ReadAround(int limit, List<(byte[] Name, byte[]? Value)> staged) => (int)Math.Min(int.MaxValue, (long)limit + 1 + staged.Count);

    /// <summary>
    /// One page of the committed elements read (<paramref name="stored"/>) with the staged changes laid over them, both in
    /// scan order: ascending names for <paramref name="direction"/> 1, descending for -1. Past the last committed element
    /// read, committed elements not read yet may sort between staged ones, so staged changes beyond it wait for the next page.
    /// </summary>
    private static ElementPage Merge(List<StoredElement> stored, bool storedHasMore, List<(byte[] Name, byte[]? Value)> staged, int limit, int direction)
    {
        byte[]? boundary = storedHasMore ? stored[^1].Name : null;
        var page = new List<StoredElement>(Math.Min(limit + 1, ElementNames.InitialPageCapacity));
        int i = 0, j = 0;
        while (page.Count <= limit)
        {
            bool storedLeft = i < stored.Count;
            bool stagedLeft = j < staged.Count && (boundary is null || direction * ElementNames.Compare(staged[j].Name, boundary) <= 0);
            if (!storedLeft && !stagedLeft)
            {
                break;
            }

            int order = !stagedLeft ? -1 : !storedLeft ? 1 : direction * ElementNames.Compare(stored[i].Name, staged[j].Name);
            if (order < 0)
            {
                page.Add(stored[i++]);
                continue;
            }

            if (order == 0)
            {
                // The staged change replaces or deletes the committed element.
                i++;
            }

            (byte[] name, byte[]? value) = staged[j++];
            if (value is not null)
            {
                page.Add(new StoredElement(name, value));
            }
        }

        bool hasMore = page.Count > limit;
        if (hasMore)
        {
            page.RemoveAt(limit);
        }

        return new ElementPage(page, hasMore);
    }

    /// <summary>Drops the changes from position <paramref name="count"/> on (an operation that threw).</summary>
    public void TruncateTo(int count)
    {
        if (count == _changes.Count)
        {
            return;
        }

        _changes.RemoveRange(count, _changes.Count - count);
        if (_index is not null)
        {
            _index.Clear();
            for (int i = 0; i < _changes.Count; i++)
            {
                Index(i);
            }
        }
    }

    public void Clear()
    {
        _changes.Clear();
        _index = null;
    }

    private void Stage(StagedElementChange change)
    {
        _changes.Add(change);
        if (_index is not null)
        {
            Index(_changes.Count - 1);
        }
        else if (_changes.Count > IndexThreshold)
        {
            _index = new Dictionary<byte[], KeyChanges>(ByteArrayComparer.Instance);
            for (int i = 0; i < _changes.Count; i++)
            {
                Index(i);
            }
        }
    }

    private void Index(int position)
    {
        StagedElementChange change = _changes[position];
        if (!_index!.TryGetValue(change.Key, out KeyChanges? keyChanges))
        {
            keyChanges = new KeyChanges();
            _index[change.Key] = keyChanges;
        }

        if (change.Element is { } element)
        {
            keyChanges.LatestByElement[element] = position;
        }
        else
        {
            keyChanges.DeletedAllAt = position;
            keyChanges.LatestByElement.Clear();
        }
    }

    private StagedState Find(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, out byte[]? value)
    {
        value = null;
        if (_index is not null)
        {
            if (!_index.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(key, out KeyChanges? keyChanges))
            {
                return StagedState.NotStaged;
            }

            if (keyChanges.LatestByElement.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(element, out int position))
            {
                value = _changes[position].Value;
                return value is null ? StagedState.Deleted : StagedState.Written;
            }

            return keyChanges.DeletedAllAt >= 0 ? StagedState.Deleted : StagedState.NotStaged;
        }

        for (int i = _changes.Count - 1; i >= 0; i--)
        {
            StagedElementChange change = _changes[i];
            if (!key.SequenceEqual(change.Key))
            {
                continue;
            }

            if (change.Element is null)
            {
                return StagedState.Deleted;
            }

            if (element.SequenceEqual(change.Element))
            {
                value = change.Value;
                return value is null ? StagedState.Deleted : StagedState.Written;
            }
        }

        return StagedState.NotStaged;
    }

    /// <summary>
    /// The net staged change of each element of <paramref name="key"/> named after <paramref name="afterElement"/>,
    /// sorted by name (a null value: deleted), and whether all the key's committed elements were deleted; null when
    /// nothing is staged for the key.
    /// </summary>
    private List<(byte[] Name, byte[]? Value)>? CollectForScan(ReadOnlySpan<byte> key, byte[]? afterElement, byte[]? beforeElement, out bool deletedAll)
    {
        deletedAll = false;
        List<(byte[] Name, byte[]? Value)> net;
        if (_index is not null)
        {
            if (!_index.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(key, out KeyChanges? keyChanges))
            {
                return null;
            }

            deletedAll = keyChanges.DeletedAllAt >= 0;
            net = new List<(byte[] Name, byte[]? Value)>(keyChanges.LatestByElement.Count);
            foreach ((byte[] element, int position) in keyChanges.LatestByElement)
            {
                if (ElementNames.IsAfter(element, afterElement) && IsBefore(element, beforeElement))
                {
                    net.Add((element, _changes[position].Value));
                }
            }
        }
        else
        {
            Dictionary<byte[], byte[]?>? latest = null;
            foreach (StagedElementChange change in _changes)
            {
                if (!key.SequenceEqual(change.Key))
                {
                    continue;
                }

                latest ??= new Dictionary<byte[], byte[]?>(ByteArrayComparer.Instance);
                if (change.Element is { } element)
                {
                    latest[element] = change.Value;
                }
                else
                {
                    deletedAll = true;
                    latest.Clear();
                }
            }

            if (latest is null)
            {
                return null;
            }

            net = new List<(byte[] Name, byte[]? Value)>(latest.Count);
            foreach ((byte[] element, byte[]? value) in latest)
            {
                if (ElementNames.IsAfter(element, afterElement) && IsBefore(element, beforeElement))
                {
                    net.Add((element, value));
                }
            }
        }

        net.Sort(static (x, y) => ElementNames.Compare(x.Name, y.Name));
        return net;
    }

    private static bool IsBefore(ReadOnlySpan<byte> name, byte[]? beforeElement) => beforeElement is null || ElementNames.Compare(name, beforeElement) < 0;

    /// <summary>The staged changes of one key, past the index threshold.</summary>
    private sealed class KeyChanges
    {
        /// <summary>Position of the latest delete of all the key's elements; -1 if none.</summary>
        public int DeletedAllAt { get; set; } = -1;

        /// <summary>Per element changed after <see cref="DeletedAllAt"/>, the position of its latest change.</summary>
        public Dictionary<byte[], int> LatestByElement { get; } = new(ByteArrayComparer.Instance);
    }
}
