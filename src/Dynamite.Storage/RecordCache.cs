using System.Collections.Concurrent;
using Dynamite.Core.KeyValue;

namespace Dynamite.Storage;

/// <summary>
/// A bounded cache, in managed memory, of the committed records of the keys a durable engine wrote or read last, so a
/// point read of a hot key is one dictionary lookup rather than a database read. Measured on a 3-node RocksDB cluster
/// (PERFORMANCE.md): RocksDB's memtable skip list cost about 7 µs per point read once it held a few hundred thousand
/// entries (a cache miss per level on this machine's 8 MiB L3), a quarter of a GET's CPU and a fifth of a SET's, where
/// the replica merge reads the key before writing it.
/// <para>
/// Coherence rests on one rule: the writer thread is the only one that changes the database, and it brackets every
/// change with <see cref="BeginWrite"/> and <see cref="EndWrite"/>, setting the cache to what it committed in between
/// (<see cref="Apply"/>, <see cref="Clear"/>). A reader that missed fills the cache with what it read only if no such
/// bracket overlapped its read (a sequence lock: <see cref="BeginFill"/> takes the sequence, <see cref="Fill"/> takes
/// its entry back out if the sequence moved). So an entry is always the committed state of its key, and eviction,
/// which only removes entries, can run anywhere. The expiry sweep is the one change that does not name its keys: it
/// raises a horizon instead (<see cref="MarkSwept"/>), and an entry whose expiry is at or before it is not trusted, since
/// the sweep may have removed its record.
/// </para>
/// <para>
/// Bounded by <see cref="CapacityBytes"/> (keys, values and a fixed overhead per entry): past it, a clock sweep evicts
/// entries that were not read since the last sweep until a tenth is free. Values larger than a sixteenth of the
/// capacity are never cached. Capacity 0 disables the cache.
/// </para>
/// </summary>
public sealed class RecordCache
{
    /// <summary>The default capacity: 256 MiB, enough to hold the hot keys of most Redis-class workloads.</summary>
    public const long DefaultCapacityBytes = 256L << 20;

    /// <summary>What an entry costs beside its key and value: the entry object and the dictionary's node.</summary>
    private const int EntryOverheadBytes = 96;

    private readonly ConcurrentDictionary<byte[], CachedRecord> _entries = new(ByteArrayComparer.Instance);
    private readonly ConcurrentDictionary<byte[], CachedRecord>.AlternateLookup<ReadOnlySpan<byte>> _byKeySpan;
    private readonly long _largestCachedBytes;
    private readonly long _evictedDownToBytes;
    private readonly Lock _eviction = new();
    private long _bytes;

    /// <summary>The latest time the expiry sweep removed records expired at; cached records expiring then or before may be gone.</summary>
    private long _sweptThroughUnixMs;

    /// <summary>Odd while the writer changes the database (between <see cref="BeginWrite"/> and <see cref="EndWrite"/>).</summary>
    private long _writeSequence;

    public RecordCache(long capacityBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacityBytes);
        CapacityBytes = capacityBytes;
        _largestCachedBytes = capacityBytes / 16;
        _evictedDownToBytes = capacityBytes - (capacityBytes / 10);
        _byKeySpan = _entries.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    public long CapacityBytes { get; }

    /// <summary>What the cached entries cost now, by the measure <see cref="CapacityBytes"/> bounds.</summary>
    public long Bytes => Volatile.Read(ref _bytes);

    public int Count => _entries.Count;

    /// <summary>The cached committed state of <paramref name="key"/>, if any and unless the expiry sweep may have
    /// removed the record since.</summary>
    public bool TryGet(ReadOnlySpan<byte> key, out CachedRecord cached)
    {
        if (!_byKeySpan.TryGetValue(key, out cached!) || MaybeSwept(cached.ExpiresAtUnixMs))
        {
            return false;
        }

        if (!cached.Referenced)
        {
            cached.Referenced = true;
        }

        return true;
    }

    /// <summary>
    /// Called by a reader that missed, before it reads the database: the token <see cref="Fill"/> needs. -1 while the
    /// writer is changing the database (what the reader reads may be outdated before it could be cached).
    /// </summary>
    public long BeginFill()
    {
        long sequence = Volatile.Read(ref _writeSequence);
        return (sequence & 1) == 0 && CapacityBytes != 0 ? sequence : -1;
    }

    /// <summary>Caches <paramref name="record"/>, which a reader read from the database after <see cref="BeginFill"/>
    /// returned <paramref name="fillToken"/>, unless the writer changed the database meanwhile.</summary>
    public void Fill(ReadOnlySpan<byte> key, StoredRecord record, long fillToken)
    {
        if (fillToken < 0 || record.Value.Length > _largestCachedBytes || MaybeSwept(record.ExpiresAtUnixMs))
        {
            return;
        }

        var cached = new CachedRecord(record.Value, record.ExpiresAtUnixMs, Charge(key.Length, record.Value.Length), record.Kind);
        if (!_byKeySpan.TryAdd(key, cached))
        {
            return;
        }

        Interlocked.Add(ref _bytes, cached.Charge);

        // The add is a full fence (the dictionary takes a lock), so this read cannot move before it.
        if (Volatile.Read(ref _writeSequence) != fillToken)
        {
            if (_byKeySpan.TryGetValue(key, out byte[]? storedKey, out CachedRecord? current) && ReferenceEquals(current, cached)
                && _entries.TryRemove(new KeyValuePair<byte[], CachedRecord>(storedKey, cached)))
            {
                Interlocked.Add(ref _bytes, -cached.Charge);
            }

            return;
        }

        EvictIfFull();
    }

    /// <summary>The writer is about to change the database: fills that overlap it are refused until <see cref="EndWrite"/>.</summary>
    public void BeginWrite() => Interlocked.Increment(ref _writeSequence);

    /// <summary>The writer's change is over (committed, or failed and dropped).</summary>
    public void EndWrite()
    {
        Interlocked.Increment(ref _writeSequence);
        EvictIfFull();
    }

    /// <summary>Sets the cache to what <paramref name="changes"/> committed (the last change of a key wins). Writer
    /// thread, between <see cref="BeginWrite"/> and <see cref="EndWrite"/>.</summary>
    public void Apply(StagedChanges changes)
    {
        if (CapacityBytes == 0)
        {
            return;
        }

        foreach (StagedChange change in changes.Changes)
        {
            if (change.Record is { } record)
            {
                if (record.Value.Length > _largestCachedBytes)
                {
                    Remove(change.Key);
                }
                else
                {
                    Set(change.Key, new CachedRecord(record.Value, record.ExpiresAtUnixMs, Charge(change.Key.Length, record.Value.Length), record.Kind));
                }
            }
            else
            {
                Set(change.Key, new CachedRecord(null, 0, Charge(change.Key.Length, 0)));
            }
        }
    }

    /// <summary>The expiry sweep is about to remove records expired at <paramref name="nowUnixMs"/>. Writer thread, between
    /// <see cref="BeginWrite"/> and <see cref="EndWrite"/>, before the records are removed.</summary>
    public void MarkSwept(long nowUnixMs)
    {
        if (nowUnixMs > Volatile.Read(ref _sweptThroughUnixMs))
        {
            Volatile.Write(ref _sweptThroughUnixMs, nowUnixMs);
        }
    }

    /// <summary>Empties the cache (the database was cleared). Writer thread, between <see cref="BeginWrite"/> and <see cref="EndWrite"/>.</summary>
    public void Clear()
    {
        foreach (KeyValuePair<byte[], CachedRecord> entry in _entries)
        {
            if (_entries.TryRemove(entry))
            {
                Interlocked.Add(ref _bytes, -entry.Value.Charge);
            }
        }
    }

    private bool MaybeSwept(long expiresAtUnixMs) => expiresAtUnixMs != 0 && expiresAtUnixMs <= Volatile.Read(ref _sweptThroughUnixMs);

    private static int Charge(int keyLength, int valueLength) => keyLength + valueLength + EntryOverheadBytes;

    /// <summary>Replaces whatever is cached under <paramref name="key"/> by <paramref name="cached"/>, keeping the byte count exact.</summary>
    private void Set(byte[] key, CachedRecord cached)
    {
        while (true)
        {
            if (_entries.TryGetValue(key, out CachedRecord? old))
            {
                if (_entries.TryUpdate(key, cached, old))
                {
                    Interlocked.Add(ref _bytes, cached.Charge - old.Charge);
                    return;
                }
            }
            else if (_entries.TryAdd(key, cached))
            {
                Interlocked.Add(ref _bytes, cached.Charge);
                return;
            }
        }
    }

    private void Remove(byte[] key)
    {
        if (_entries.TryRemove(key, out CachedRecord? old))
        {
            Interlocked.Add(ref _bytes, -old.Charge);
        }
    }

    /// <summary>
    /// Past the capacity, one thread at a time sweeps the entries like a clock: an entry read since the last sweep loses
    /// its mark and stays, one that was not is evicted, until a tenth of the capacity is free (at most two passes).
    /// </summary>
    private void EvictIfFull()
    {
        if (Volatile.Read(ref _bytes) <= CapacityBytes || !_eviction.TryEnter())
        {
            return;
        }

        try
        {
            for (int pass = 0; pass < 2 && Volatile.Read(ref _bytes) > _evictedDownToBytes; pass++)
            {
                foreach (KeyValuePair<byte[], CachedRecord> entry in _entries)
                {
                    if (entry.Value.Referenced)
                    {
                        entry.Value.Referenced = false;
                    }
                    else if (_entries.TryRemove(entry))
                    {
                        if (Interlocked.Add(ref _bytes, -entry.Value.Charge) <= _evictedDownToBytes)
                        {
                            return;
                        }
                    }
                }
            }
        }
        finally
        {
            _eviction.Exit();
        }
    }
}
