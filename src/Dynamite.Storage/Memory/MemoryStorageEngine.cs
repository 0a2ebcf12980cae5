using System.Collections.Concurrent;
using System.Diagnostics;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;
using Dynamite.Storage.Metrics;

namespace Dynamite.Storage.Memory;

/// <summary>
/// The volatile engine: one concurrent dictionary per partition, read without locks (span lookups, no
/// allocation on a hit); writes run one at a time under a lock, which makes every operation atomic.
/// Entries are immutable and replaced whole, so a lock-free reader always sees a complete record.
/// </summary>
public sealed class MemoryStorageEngine : IStorageEngine
{
    private readonly ConcurrentDictionary<byte[], Entry>[] _partitions;
    private readonly Lock _writeLock = new();
    private readonly EngineMetrics? _metrics;

    // Guarded by _writeLock.
    private readonly Transaction _transaction;
    private readonly SortedSet<ExpiryIndexEntry> _expiryIndex = new(ExpiryIndexEntry.Comparer);
    private long _keyCount;
    private long _keysWithExpiryCount;

    /// <param name="partitioner">The node's partitioning of the key space.</param>
    /// <param name="metrics">Where writes are timed; null: not measured.</param>
    public MemoryStorageEngine(KeyPartitioner partitioner, EngineMetrics? metrics = null)
    {
        Partitioner = partitioner;
        _metrics = metrics;
        _partitions = new ConcurrentDictionary<byte[], Entry>[partitioner.PartitionCount];
        for (int i = 0; i < _partitions.Length; i++)
        {
            _partitions[i] = new ConcurrentDictionary<byte[], Entry>(ByteArrayComparer.Instance);
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

    public ValueTask ExecuteAsync(IStorageOperation operation, long nowUnixMs, CancellationToken cancellationToken = default)
    {
        long started = _metrics is { Enabled: true } ? Stopwatch.GetTimestamp() : 0;
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
                return ValueTask.FromException(exception);
            }

            foreach (StagedChange change in _transaction.Changes.Changes)
            {
                Apply(change);
            }

            _transaction.Changes.Clear();
        }

        if (started != 0)
        {
            _metrics!.WriteDone(started);
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

    public ValueTask<int> RemoveExpiredAsync(long nowUnixMs, int maxKeys, CancellationToken cancellationToken = default)
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

    /// <summary>The reusable transaction view; used only under the engine's write lock.</summary>
    private sealed class Transaction(MemoryStorageEngine engine) : IStorageTransaction
    {
        public StagedChanges Changes { get; } = new();

        public long NowUnixMs { get; private set; }

        public void Begin(long nowUnixMs) => NowUnixMs = nowUnixMs;

        public bool TryRead(ReadOnlySpan<byte> key, out StoredRecord record)
        {
            if (Changes.TryFind(key, out StagedChange change))
            {
                record = change.Record.GetValueOrDefault();
                return change.Record is { } staged && !staged.IsExpiredAt(NowUnixMs);
            }

            return engine.TryRead(key, NowUnixMs, out record);
        }

        public void Write(byte[] key, StoredRecord record)
        {
            ArgumentNullException.ThrowIfNull(key);
            ArgumentNullException.ThrowIfNull(record.Value);
            Changes.Stage(key, record);
        }

        public void Delete(byte[] key) => Changes.Stage(key, null);
    }
}
