using System.Collections.Concurrent;
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
/// Elements and index entries: a <see cref="MemoryElementSpace"/> each (per key, an immutable sorted set), so a
/// reader takes a consistent snapshot of one key's elements without a lock; as for records, a lock-free reader may see
/// one key of a multi-key operation changed before another.
/// </para>
/// </summary>
public sealed partial class MemoryStorageEngine : IStorageEngine
{
    private readonly ConcurrentDictionary<byte[], Entry>[] _partitions;
    private readonly MemoryElementSpace _elements;
    private readonly MemoryElementSpace _index;
    private readonly Lock _writeLock = new();

    // Guarded by _writeLock.
    private readonly Transaction _transaction;
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
        for (int i = 0; i < _partitions.Length; i++)
        {
            _partitions[i] = new ConcurrentDictionary<byte[], Entry>(ByteArrayComparer.Instance);
        }

        _elements = new MemoryElementSpace(partitioner);
        _index = new MemoryElementSpace(partitioner);

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

    public bool TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value) =>
        _elements.TryReadElement(key, element, out value);

    public ElementPage ScanElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var elements = new List<StoredElement>(Math.Min(limit, ElementNames.InitialPageCapacity));
        bool more = _elements.ReadElements(key, afterElement, limit, elements);
        return new ElementPage(elements, more);
    }

    public ElementPage ScanIndex(ReadOnlySpan<byte> key, byte[]? bound, int limit, bool backward)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var entries = new List<StoredElement>(Math.Min(limit, ElementNames.InitialPageCapacity));
        bool more = backward ? _index.ReadElementsBackward(key, bound, limit, entries) : _index.ReadElements(key, bound, limit, entries);
        return new ElementPage(entries, more);
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
                _transaction.ClearStaged();
                return ValueTask.FromException(exception);
            }

            ReadOnlySpan<StagedChange> changes = _transaction.Changes.Changes;
            foreach (StagedChange change in changes)
            {
                Apply(change);
            }

            Interlocked.Add(ref _changedRecordCount, _transaction.Changes.Count);
            if (ChangeListener is { IsListening: true } listener)
            {
                foreach (StagedChange change in changes)
                {
                    listener.OnChanged(change.Key);
                }
            }

            if (_transaction.ElementChanges.Count > 0)
            {
                _elements.Apply(_transaction.ElementChanges.Changes);
            }

            if (_transaction.IndexChanges.Count > 0)
            {
                _index.Apply(_transaction.IndexChanges.Changes);
            }

            _transaction.ClearStaged();
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
                _elements.RemoveKey(first.Hash, first.Key);
                _index.RemoveKey(first.Hash, first.Key);
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

            _elements.Clear();
            _index.Clear();

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
