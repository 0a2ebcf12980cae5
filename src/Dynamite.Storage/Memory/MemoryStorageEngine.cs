using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;
using Dynamite.Storage.Metrics;

namespace Dynamite.Storage.Memory;

/// <summary>
/// The volatile engine: one concurrent dictionary per partition, read without locks (span lookups, no
/// allocation on a hit); writes run one at a time under a lock, which makes every operation atomic.
/// Entries are immutable and replaced whole, so a lock-free reader always sees a complete record.
/// <para>
/// Elements: per partition, a concurrent dictionary from a key to its elements, an immutable sorted set ordered by
/// name (a persistent balanced tree: a change copies O(log n) nodes, and positions are O(log n) to reach), so one
/// key's elements are one ordered range and a reader takes a consistent snapshot of them without a lock. An
/// operation's changes to one key's elements are made in one builder and published as one new set; as for records,
/// a lock-free reader may see one key of a multi-key operation changed before another.
/// </para>
/// </summary>
public sealed partial class MemoryStorageEngine : IStorageEngine, IElementReader
{
    private static readonly ImmutableSortedSet<StoredElement> NoElements = ImmutableSortedSet.Create<StoredElement>(ElementNames.Order);

    private readonly ConcurrentDictionary<byte[], Entry>[] _partitions;
    private readonly ConcurrentDictionary<byte[], ImmutableSortedSet<StoredElement>>[] _elementPartitions;
    private readonly Lock _writeLock = new();

    // Guarded by _writeLock.
    private readonly Transaction _transaction;
    private readonly Dictionary<byte[], ImmutableSortedSet<StoredElement>.Builder> _changedElements = new(ByteArrayComparer.Instance);
    private readonly SortedSet<ExpiryIndexEntry> _expiryIndex = new(ExpiryIndexEntry.Comparer);
    private long _keyCount;
    private long _keysWithExpiryCount;

    /// <param name="partitioner">The node's partitioning of the key space.</param>
    /// <remarks>
    /// Writes are not timed into <see cref="StorageMetrics"/>: one is a dictionary update under a lock, shorter
    /// than its timing (two clock reads and a tagged histogram update cost a SET about 220 ns, a third of its command
    /// path in <c>MeasuredCommandPathBenchmarks</c>), and the command histogram already holds it.
    /// </remarks>
    public MemoryStorageEngine(KeyPartitioner partitioner)
    {
        Partitioner = partitioner;
        _partitions = new ConcurrentDictionary<byte[], Entry>[partitioner.PartitionCount];
        _elementPartitions = new ConcurrentDictionary<byte[], ImmutableSortedSet<StoredElement>>[partitioner.PartitionCount];
        for (int i = 0; i < _partitions.Length; i++)
        {
            _partitions[i] = new ConcurrentDictionary<byte[], Entry>(ByteArrayComparer.Instance);
            _elementPartitions[i] = new ConcurrentDictionary<byte[], ImmutableSortedSet<StoredElement>>(ByteArrayComparer.Instance);
        }

        _transaction = new Transaction(this);
    }

    public string Name => "memory";

    public KeyPartitioner Partitioner { get; }

    public long KeyCount => Volatile.Read(ref _keyCount);

    public long KeysWithExpiryCount => Volatile.Read(ref _keysWithExpiryCount);

    public bool TryRead(ReadOnlySpan<byte> key, long nowUnixMs, out StoredRecord record)
    {
        if (TryGetEntry(key, out Entry? entry) && !entry.Record.IsExpiredAt(nowUnixMs))
        {
            record = entry.Record;
            return true;
        }

        record = default;
        return false;
    }

    public bool TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value)
    {
        if (TryGetElements(key, out ImmutableSortedSet<StoredElement>? elements))
        {
            int index = FirstIndexFrom(elements, element, after: false);
            if (index < elements.Count)
            {
                StoredElement found = elements[index];
                if (found.Name.AsSpan().SequenceEqual(element))
                {
                    value = found.Value;
                    return true;
                }
            }
        }

        value = null;
        return false;
    }

    public ElementPage ScanElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var elements = new List<StoredElement>(Math.Min(limit, ElementNames.InitialPageCapacity));
        bool more = ((IElementReader)this).ReadElements(key, afterElement, limit, elements);
        return new ElementPage(elements, more);
    }

    /// <summary>The stored arrays themselves: they are never mutated, so nothing is copied.</summary>
    bool IElementReader.ReadElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit, List<StoredElement> into)
    {
        if (!TryGetElements(key, out ImmutableSortedSet<StoredElement>? elements))
        {
            return false;
        }

        int start = afterElement is null ? 0 : FirstIndexFrom(elements, afterElement, after: true);
        int end = (int)Math.Min(elements.Count, (long)start + limit);
        for (int i = start; i < end; i++)
        {
            into.Add(elements[i]);
        }

        return end < elements.Count;
    }

    /// <summary>The stored arrays themselves, as <see cref="IElementReader.ReadElements"/>: from the end of the sorted set.</summary>
    bool IElementReader.ReadElementsBackward(ReadOnlySpan<byte> key, byte[]? beforeElement, int limit, List<StoredElement> into)
    {
        if (!TryGetElements(key, out ImmutableSortedSet<StoredElement>? elements))
        {
            return false;
        }

        int end = beforeElement is null ? elements.Count : FirstIndexFrom(elements, beforeElement, after: false);
        int first = (int)Math.Max(0, (long)end - limit);
        for (int i = end - 1; i >= first; i--)
        {
            into.Add(elements[i]);
        }

        return first > 0;
    }

    public IKeyChangeListener? ChangeListener { get; set; }

    private long _changedRecordCount;

    public long ChangedRecordCount => Interlocked.Read(ref _changedRecordCount);

    public ValueTask ExecuteAsync(IStorageOperation operation, long nowUnixMs, CancellationToken cancellationToken = default)
    {
        lock (_writeLock)
        {
            _transaction.Begin(nowUnixMs);
            try
            {
                operation.Execute(_transaction);
            }
            catch (Exception exception)
            {
                _transaction.Changes.Clear();
                _transaction.ElementChanges.Clear();
                return ValueTask.FromException(exception);
            }

            foreach (StagedChange change in _transaction.Changes.Changes)
            {
                Apply(change);
            }

            Interlocked.Add(ref _changedRecordCount, _transaction.Changes.Count);
            if (ChangeListener is { IsListening: true } listener)
            {
                foreach (StagedChange change in _transaction.Changes.Changes)
                {
                    listener.OnChanged(change.Key);
                }
            }

            if (_transaction.ElementChanges.Count > 0)
            {
                ApplyElements(_transaction.ElementChanges.Changes);
            }

            _transaction.Changes.Clear();
            _transaction.ElementChanges.Clear();
        }

        return ValueTask.CompletedTask;
    }

    public ScanPage Scan(ulong fromHash, int limit, long nowUnixMs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var keys = new List<byte[]>();
        var candidates = new List<Entry>();
        ulong cursor = fromHash;
        int partition = Partitioner.PartitionOfHash(cursor).Value;
        while (true)
        {
            candidates.Clear();
            foreach (Entry entry in _partitions[partition].Values)
            {
                if (entry.Hash >= cursor && !entry.Record.IsExpiredAt(nowUnixMs))
                {
                    candidates.Add(entry);
                }
            }

            candidates.Sort(Entry.HashOrder);
            for (int i = 0; i < candidates.Count; i++)
            {
                if (keys.Count >= limit && candidates[i].Hash != candidates[i - 1].Hash)
                {
                    return new ScanPage(keys, candidates[i].Hash);
                }

                keys.Add(candidates[i].Key);
            }

            partition++;
            if (partition == _partitions.Length)
            {
                return new ScanPage(keys, null);
            }

            cursor = Partitioner.FirstHashOf(new PartitionId(partition));
            if (keys.Count >= limit)
            {
                return new ScanPage(keys, cursor);
            }
        }
    }

    public IEnumerable<StoredEntry> ReadPartition(PartitionId partition, long nowUnixMs)
    {
        var entries = new List<Entry>(_partitions[partition.Value].Values);
        entries.Sort(Entry.HashOrder);
        foreach (Entry entry in entries)
        {
            if (!entry.Record.IsExpiredAt(nowUnixMs))
            {
                yield return new StoredEntry(entry.Key, entry.Record);
            }
        }
    }

    public ValueTask<int> RemoveExpiredAsync(long nowUnixMs, int maxKeys, List<byte[]>? removedKeys = null, CancellationToken cancellationToken = default)
    {
        int removed = 0;
        lock (_writeLock)
        {
            while (removed < maxKeys && _expiryIndex.Count > 0)
            {
                ExpiryIndexEntry first = _expiryIndex.Min;
                if (first.ExpiresAtUnixMs > nowUnixMs)
                {
                    break;
                }

                Apply(new StagedChange(first.Key, first.Hash, null));
                ElementsOf(first.Hash).TryRemove(first.Key, out _);
                removedKeys?.Add(first.Key);
                removed++;
            }
        }

        return ValueTask.FromResult(removed);
    }

    public ValueTask ClearAsync(CancellationToken cancellationToken = default)
    {
        lock (_writeLock)
        {
            foreach (ConcurrentDictionary<byte[], Entry> partition in _partitions)
            {
                partition.Clear();
            }

            foreach (ConcurrentDictionary<byte[], ImmutableSortedSet<StoredElement>> partition in _elementPartitions)
            {
                partition.Clear();
            }

            _expiryIndex.Clear();
            Volatile.Write(ref _keyCount, 0);
            Volatile.Write(ref _keysWithExpiryCount, 0);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private bool TryGetEntry(ReadOnlySpan<byte> key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Entry? entry)
    {
        ulong hash = KeyPartitioner.HashKey(key);
        var lookup = _partitions[Partitioner.PartitionOfHash(hash).Value].GetAlternateLookup<ReadOnlySpan<byte>>();
        return lookup.TryGetValue(key, out entry);
    }

    /// <summary>
    /// The first position in <paramref name="elements"/> whose name is at or (<paramref name="after"/>) after
    /// <paramref name="name"/>. A binary search over positions (each an O(log n) walk), comparing spans: the set's own
    /// search would need a probe element, and so a copy of the name.
    /// </summary>
    private static int FirstIndexFrom(ImmutableSortedSet<StoredElement> elements, ReadOnlySpan<byte> name, bool after)
    {
        int low = 0;
        int high = elements.Count;
        while (low < high)
        {
            int middle = low + ((high - low) >> 1);
            int order = ElementNames.Compare(elements[middle].Name, name);
            if (order < 0 || (after && order == 0))
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    private bool TryGetElements(ReadOnlySpan<byte> key, [NotNullWhen(true)] out ImmutableSortedSet<StoredElement>? elements) =>
        ElementsOf(KeyPartitioner.HashKey(key)).GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(key, out elements);

    private ConcurrentDictionary<byte[], ImmutableSortedSet<StoredElement>> ElementsOf(ulong keyHash) =>
        _elementPartitions[Partitioner.PartitionOfHash(keyHash).Value];

    /// <summary>
    /// Applies one operation's element changes in order, each key's in one builder, then publishes each changed key's
    /// new set (or removes the key when it has no elements left); the caller holds <see cref="_writeLock"/>.
    /// </summary>
    private void ApplyElements(IReadOnlyList<StagedElementChange> changes)
    {
        try
        {
            foreach (StagedElementChange change in changes)
            {
                if (!_changedElements.TryGetValue(change.Key, out ImmutableSortedSet<StoredElement>.Builder? builder))
                {
                    if (!ElementsOf(change.KeyHash).TryGetValue(change.Key, out ImmutableSortedSet<StoredElement>? stored))
                    {
                        if (change.Value is null)
                        {
                            // A delete of what the key does not have.
                            continue;
                        }

                        stored = NoElements;
                    }

                    builder = stored.ToBuilder();
                    _changedElements[change.Key] = builder;
                }

                if (change.Element is not { } element)
                {
                    builder.Clear();
                    continue;
                }

                // The set orders by name alone: the old element goes, then the new one comes in.
                builder.Remove(new StoredElement(element, []));
                if (change.Value is { } value)
                {
                    builder.Add(new StoredElement(element, value));
                }
            }

            foreach ((byte[] key, ImmutableSortedSet<StoredElement>.Builder builder) in _changedElements)
            {
                ConcurrentDictionary<byte[], ImmutableSortedSet<StoredElement>> partition = ElementsOf(KeyPartitioner.HashKey(key));
                if (builder.Count == 0)
                {
                    partition.TryRemove(key, out _);
                }
                else
                {
                    partition[key] = builder.ToImmutable();
                }
            }
        }
        finally
        {
            _changedElements.Clear();
        }
    }

    /// <summary>Applies one change; the caller holds <see cref="_writeLock"/>.</summary>
    private void Apply(StagedChange change)
    {
        ConcurrentDictionary<byte[], Entry> partition = _partitions[Partitioner.PartitionOfHash(change.KeyHash).Value];
        partition.TryGetValue(change.Key, out Entry? previous);
        if (previous is not null && previous.Record.HasExpiry)
        {
            _expiryIndex.Remove(new ExpiryIndexEntry(previous.Record.ExpiresAtUnixMs, previous.Hash, previous.Key));
            _keysWithExpiryCount--;
        }

        if (change.Record is { } record)
        {
            var entry = new Entry(change.Key, change.KeyHash, record);
            partition[change.Key] = entry;
            if (previous is null)
            {
                _keyCount++;
            }

            if (record.HasExpiry)
            {
                _expiryIndex.Add(new ExpiryIndexEntry(record.ExpiresAtUnixMs, entry.Hash, entry.Key));
                _keysWithExpiryCount++;
            }
        }
        else if (previous is not null)
        {
            partition.TryRemove(change.Key, out _);
            _keyCount--;
        }
    }

    private sealed class Entry(byte[] key, ulong hash, StoredRecord record)
    {
        public static readonly Comparison<Entry> HashOrder = static (a, b) =>
        {
            int byHash = a.Hash.CompareTo(b.Hash);
            return byHash != 0 ? byHash : a.Key.AsSpan().SequenceCompareTo(b.Key);
        };

        public byte[] Key { get; } = key;

        public ulong Hash { get; } = hash;

        public StoredRecord Record { get; } = record;
    }

    private readonly record struct ExpiryIndexEntry(long ExpiresAtUnixMs, ulong Hash, byte[] Key)
    {
        public static readonly IComparer<ExpiryIndexEntry> Comparer = Comparer<ExpiryIndexEntry>.Create(static (a, b) =>
        {
            int byTime = a.ExpiresAtUnixMs.CompareTo(b.ExpiresAtUnixMs);
            if (byTime != 0)
            {
                return byTime;
            }

            int byHash = a.Hash.CompareTo(b.Hash);
            return byHash != 0 ? byHash : a.Key.AsSpan().SequenceCompareTo(b.Key);
        });
    }
}
