using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;
using RocksDbSharp;
using RocksDatabase = RocksDbSharp.RocksDb;

namespace Dynamite.Storage.RocksDb;

/// <summary>
/// The opened RocksDB database with its column families, and the few primitive operations the engine builds on:
/// zero-copy point reads, iterators, atomic batch writes, WAL sync and memtable flush.
/// <para>
/// Thread-safety: RocksDB reads, iterators and writes are safe from any thread. What is not safe is using a handle
/// after <see cref="Dispose"/> closed it, which would crash the process rather than throw; so every read from outside
/// the writer thread runs between <see cref="EnterRead"/> and <see cref="ExitRead"/>, and <see cref="Dispose"/> waits
/// for reads in flight before closing. That guard is one interlocked increment and decrement, never a lock.
/// </para>
/// </summary>
internal sealed class RocksDbStore : IDisposable
{
    /// <summary>Sign bit of <see cref="_readState"/>: set once closing has begun.</summary>
    private const int Closing = int.MinValue;

    private readonly RocksDatabase _db;
    private readonly ReadOptions _readOptions = new();

    private readonly FlushOptions _flushOptions = new FlushOptions().SetWaitForFlush(true);
    private readonly IntPtr[] _familyHandles;

    // Low 31 bits: reads in flight; sign bit: Closing.
    private int _readState;

    private RocksDbStore(RocksDatabase db, string path)
    {
        _db = db;
        Path = path;
        Data = db.GetDefaultColumnFamily();
        Expiry = db.GetColumnFamily(RocksDbKeys.ExpiryFamily);
        Meta = db.GetColumnFamily(RocksDbKeys.MetaFamily);
        Elements = db.GetColumnFamily(RocksDbKeys.ElementFamily);
        IndexEntries = db.GetColumnFamily(RocksDbKeys.IndexFamily);
        ElementSpace = new RocksDbElementSpace(Elements, new RocksDbElementEnds());
        IndexSpace = new RocksDbElementSpace(IndexEntries, new RocksDbElementEnds());
        _familyHandles = [Data.Handle, Expiry.Handle, Meta.Handle, Elements.Handle, IndexEntries.Handle];
    }

    /// <summary>The database directory.</summary>
    public string Path { get; }

    public ColumnFamilyHandle Data { get; }

    public ColumnFamilyHandle Expiry { get; }

    public ColumnFamilyHandle Meta { get; }

    public ColumnFamilyHandle Elements { get; }

    /// <summary>The index entries (<c>IStorageTransaction.KeepsIndex</c>), keyed as elements are, with empty values.</summary>
    public ColumnFamilyHandle IndexEntries { get; }

    /// <summary>The elements, with the ends of keys' elements the writer last read.</summary>
    public RocksDbElementSpace ElementSpace { get; }

    /// <summary>The index entries, with the ends of keys' entries the writer last read.</summary>
    public RocksDbElementSpace IndexSpace { get; }

    /// <summary>
    /// Opens (creating if needed) the database in <paramref name="path"/> and returns it with its persisted key
    /// counters. Throws <see cref="NotSupportedException"/> for a database of a newer format (leaving it unchanged),
    /// and RocksDB's exception if another process (or engine) has it open: RocksDB locks the directory.
    /// </summary>
    public static (RocksDbStore Store, long KeyCount, long KeysWithExpiryCount) Open(string path)
    {
        Directory.CreateDirectory(path);
        RocksDatabase db = RocksDatabase.Open(RocksDbOptions.Database(), path, RocksDbOptions.ColumnFamilies());
        var store = new RocksDbStore(db, path);
        try
        {
            (long keys, long withExpiry) = store.ReadMetadata();
            return (store, keys, withExpiry);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>Starts a read from outside the writer thread; throws <see cref="ObjectDisposedException"/> once closing began.</summary>
    public void EnterRead()
    {
        if (Interlocked.Increment(ref _readState) < 0)
        {
            Interlocked.Decrement(ref _readState);
            throw new ObjectDisposedException(nameof(RocksDbStorageEngine));
        }
    }

    public void ExitRead() => Interlocked.Decrement(ref _readState);

    /// <summary>Reads the live record of the user key <paramref name="key"/>; expired or absent reads as false.</summary>
    public bool TryReadKey(ReadOnlySpan<byte> key, long nowUnixMs, out StoredRecord record)
    {
        int length = RocksDbKeys.DataKeyLength(key.Length);
        byte[]? rented = null;
        Span<byte> dataKey = length <= RocksDbKeys.StackKeyLimit
            ? stackalloc byte[length]
            : (rented = ArrayPool<byte>.Shared.Rent(length)).AsSpan(0, length);
        try
        {
            RocksDbKeys.WriteDataKey(dataKey, KeyPartitioner.HashKey(key), key);
            return TryRead(dataKey, nowUnixMs, out record);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Reads the live record stored under <paramref name="dataKey"/>. The value is read pinned in RocksDB's
    /// memory (block cache or memtable) and copied once, into the returned record's array.</summary>
    public bool TryRead(ReadOnlySpan<byte> dataKey, long nowUnixMs, out StoredRecord record)
    {
        IntPtr pinned = GetPinned(dataKey, out ReadOnlySpan<byte> encoded);
        if (pinned == IntPtr.Zero)
        {
            record = default;
            return false;
        }

        try
        {
            if (RocksDbRecordCodec.IsLiveAt(encoded, nowUnixMs))
            {
                record = RocksDbRecordCodec.Decode(encoded);
                return true;
            }

            record = default;
            return false;
        }
        finally
        {
            Native.Instance.rocksdb_pinnable_handle_destroy(pinned);
        }
    }

    /// <summary>
    /// One read of the user key <paramref name="key"/> that answers both what an operation sees and what the
    /// counters need: whether anything is stored (expired or not) with its expiry, and the record when it is live.
    /// </summary>
    public bool TryReadStoredKey(ReadOnlySpan<byte> key, long nowUnixMs, out long storedExpiry, out StoredRecord? liveRecord)
    {
        int length = RocksDbKeys.DataKeyLength(key.Length);
        byte[]? rented = null;
        Span<byte> dataKey = length <= RocksDbKeys.StackKeyLimit
            ? stackalloc byte[length]
            : (rented = ArrayPool<byte>.Shared.Rent(length)).AsSpan(0, length);
        try
        {
            RocksDbKeys.WriteDataKey(dataKey, KeyPartitioner.HashKey(key), key);
            IntPtr pinned = GetPinned(dataKey, out ReadOnlySpan<byte> encoded);
            if (pinned == IntPtr.Zero)
            {
                storedExpiry = 0;
                liveRecord = null;
                return false;
            }

            try
            {
                storedExpiry = RocksDbRecordCodec.ReadExpiry(encoded);
                liveRecord = RocksDbRecordCodec.IsLiveAt(encoded, nowUnixMs) ? RocksDbRecordCodec.Decode(encoded) : null;
                return true;
            }
            finally
            {
                Native.Instance.rocksdb_pinnable_handle_destroy(pinned);
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Whether <paramref name="dataKey"/> is stored (expired or not), and its expiry; copies nothing.</summary>
    public bool TryReadExpiry(ReadOnlySpan<byte> dataKey, out long expiresAtUnixMs)
    {
        IntPtr pinned = GetPinned(dataKey, out ReadOnlySpan<byte> encoded);
        if (pinned == IntPtr.Zero)
        {
            expiresAtUnixMs = 0;
            return false;
        }

        try
        {
            expiresAtUnixMs = RocksDbRecordCodec.ReadExpiry(encoded);
            return true;
        }
        finally
        {
            Native.Instance.rocksdb_pinnable_handle_destroy(pinned);
        }
    }

    /// <summary>Reads element <paramref name="element"/> of <paramref name="key"/>, pinned in RocksDB's memory and copied once.</summary>
    public bool TryReadElement(RocksDbElementSpace space, ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value)
    {
        int length = RocksDbKeys.ElementPrefixLength(key.Length) + element.Length;
        byte[]? rented = null;
        Span<byte> elementKey = length <= RocksDbKeys.StackKeyLimit
            ? stackalloc byte[length]
            : (rented = ArrayPool<byte>.Shared.Rent(length)).AsSpan(0, length);
        try
        {
            RocksDbKeys.WriteElementKey(elementKey, KeyPartitioner.HashKey(key), key, element);
            IntPtr pinned = GetPinned(space.Family, elementKey, out ReadOnlySpan<byte> stored);
            if (pinned == IntPtr.Zero)
            {
                value = null;
                return false;
            }

            try
            {
                value = stored.ToArray();
                return true;
            }
            finally
            {
                Native.Instance.rocksdb_pinnable_handle_destroy(pinned);
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// Appends up to <paramref name="limit"/> elements of <paramref name="key"/> named after
    /// <paramref name="afterElement"/> (null: from the first) to <paramref name="into"/>, in name order, and returns
    /// whether more remain: one seek (to the prefix, or to the prefix and the name after <paramref name="afterElement"/>,
    /// which is that name and a zero byte) and a forward walk while keys start with the key's prefix.
    /// </summary>
    public bool ReadElements(RocksDbElementSpace space, ReadOnlySpan<byte> key, byte[]? afterElement, int limit, List<StoredElement> into, bool onWriterThread = false, bool useRememberedEnds = true)
    {
        // From the start: from the first live name the writer last read, past the tombstones of the pops before it.
        byte[]? first = afterElement is null && useRememberedEnds ? space.Ends.FirstOf(key) : null;
        int prefixLength = RocksDbKeys.ElementPrefixLength(key.Length);
        int seekLength = prefixLength + (afterElement is null ? first?.Length ?? 0 : afterElement.Length + 1);
        byte[]? rented = null;
        Span<byte> seek = seekLength <= RocksDbKeys.StackKeyLimit
            ? stackalloc byte[seekLength]
            : (rented = ArrayPool<byte>.Shared.Rent(seekLength)).AsSpan(0, seekLength);
        try
        {
            RocksDbKeys.WriteElementPrefix(seek[..prefixLength], KeyPartitioner.HashKey(key), key);
            if (afterElement is not null)
            {
                afterElement.CopyTo(seek[prefixLength..]);
                seek[^1] = 0;
            }
            else
            {
                first?.CopyTo(seek[prefixLength..]);
            }

            ReadOnlySpan<byte> prefix = seek[..prefixLength];
            using Iterator iterator = NewIterator(space.Family);
            int read = 0;
            for (iterator.Seek(seek); iterator.Valid(); iterator.Next())
            {
                ReadOnlySpan<byte> elementKey = iterator.GetKeySpan();
                if (!elementKey.StartsWith(prefix))
                {
                    return false;
                }

                if (read == limit)
                {
                    return true;
                }

                into.Add(new StoredElement(elementKey[prefixLength..].ToArray(), iterator.GetValueSpan().ToArray()));
                if (read == 0 && afterElement is null && onWriterThread)
                {
                    space.Ends.RememberFirst(key, into[^1].Name);
                }

                read++;
            }

            ThrowIfFailed(iterator);
            return false;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// Appends up to <paramref name="limit"/> elements of <paramref name="key"/> named before
    /// <paramref name="beforeElement"/> (null: from the last) to <paramref name="into"/>, last first, and returns
    /// whether more remain before them: one seek (to the prefix and <paramref name="beforeElement"/>, or to the first key
    /// after the prefix) and a backward walk while keys start with the key's prefix.
    /// </summary>
    public bool ReadElementsBackward(RocksDbElementSpace space, ReadOnlySpan<byte> key, byte[]? beforeElement, int limit, List<StoredElement> into, bool onWriterThread = false, bool useRememberedEnds = true)
    {
        // From the end: from the last live name the writer last read (that name included), not over the tombstones of
        // the pops after it. Every seek here is a SeekForPrev: a forward Seek would step over those tombstones first.
        byte[]? last = beforeElement is null && useRememberedEnds ? space.Ends.LastOf(key) : null;
        bool fromEnd = beforeElement is null;
        byte[]? bound = beforeElement ?? last;
        int prefixLength = RocksDbKeys.ElementPrefixLength(key.Length);
        int seekLength = prefixLength + (bound?.Length ?? 0);
        byte[]? rented = null;
        Span<byte> seek = seekLength <= RocksDbKeys.StackKeyLimit
            ? stackalloc byte[seekLength]
            : (rented = ArrayPool<byte>.Shared.Rent(seekLength)).AsSpan(0, seekLength);
        try
        {
            RocksDbKeys.WriteElementPrefix(seek[..prefixLength], KeyPartitioner.HashKey(key), key);
            using Iterator iterator = NewIterator(space.Family);
            if (bound is not null)
            {
                bound.CopyTo(seek[prefixLength..]);
                iterator.SeekForPrev(seek);

                // The bound itself is excluded, but for the remembered last name, which is the end.
                if (beforeElement is not null && iterator.Valid() && iterator.GetKeySpan().SequenceEqual(seek))
                {
                    iterator.Prev();
                }
            }
            else
            {
                // Every element key of the prefix sorts before the prefix with its last byte that is not 0xFF raised
                // by one (the bytes after it dropped), which is no element key of this prefix; a prefix of 0xFF bytes
                // only has no such key: the walk starts from the database's last key.
                int raise = prefixLength - 1;
                while (raise >= 0 && seek[raise] == 0xFF)
                {
                    raise--;
                }

                if (raise >= 0)
                {
                    Span<byte> successor = seek[..(raise + 1)];
                    successor[raise]++;
                    iterator.SeekForPrev(successor);
                    if (iterator.Valid() && iterator.GetKeySpan().SequenceEqual(successor))
                    {
                        iterator.Prev();
                    }

                    successor[raise]--;
                }
                else
                {
                    iterator.SeekToLast();
                }
            }

            ReadOnlySpan<byte> prefix = seek[..prefixLength];
            int read = 0;
            for (; iterator.Valid(); iterator.Prev())
            {
                ReadOnlySpan<byte> elementKey = iterator.GetKeySpan();
                if (!elementKey.StartsWith(prefix))
                {
                    return false;
                }

                if (read == limit)
                {
                    return true;
                }

                into.Add(new StoredElement(elementKey[prefixLength..].ToArray(), iterator.GetValueSpan().ToArray()));
                if (read == 0 && fromEnd && onWriterThread)
                {
                    space.Ends.RememberLast(key, into[^1].Name);
                }

                read++;
            }

            ThrowIfFailed(iterator);
            return false;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// Adds to <paramref name="batch"/> the deletion of every element of <paramref name="key"/> (hash
    /// <paramref name="hash"/>) when <paramref name="elements"/>, an iterator over the committed elements, finds the key
    /// has any: one range tombstone over its prefix. A key without elements (every string) costs a seek and leaves no
    /// tombstone behind, which would otherwise pile up for reads of the column family to step over.
    /// </summary>
    public void StageDeleteElements(RocksDbElementSpace space, WriteBatch batch, Iterator elements, ulong hash, ReadOnlySpan<byte> key)
    {
        int prefixLength = RocksDbKeys.ElementPrefixLength(key.Length);
        byte[]? rented = null;
        Span<byte> bounds = 2 * prefixLength <= RocksDbKeys.StackKeyLimit
            ? stackalloc byte[2 * prefixLength]
            : (rented = ArrayPool<byte>.Shared.Rent(2 * prefixLength)).AsSpan(0, 2 * prefixLength);
        try
        {
            Span<byte> prefix = bounds[..prefixLength];
            RocksDbKeys.WriteElementPrefix(prefix, hash, key);
            elements.Seek(prefix);
            if (!elements.Valid())
            {
                ThrowIfFailed(elements);
                return;
            }

            if (!elements.GetKeySpan().StartsWith(prefix))
            {
                return;
            }

            int endLength = RocksDbKeys.WritePrefixEnd(prefix, bounds[prefixLength..]);
            StageDeleteRange(batch, space.Family, prefix, bounds.Slice(prefixLength, endLength));
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>A new iterator over <paramref name="family"/> at the current state; the caller disposes it.</summary>
    public Iterator NewIterator(ColumnFamilyHandle family) => _db.NewIterator(family, _readOptions);

    /// <summary>Throws if <paramref name="iterator"/> stopped on an error rather than at the end of its data.</summary>
    public static void ThrowIfFailed(Iterator iterator) => Native.Instance.rocksdb_iter_get_error(iterator.Handle);

    /// <summary>Applies <paramref name="batch"/> atomically: all of it or, if this throws, none of it.</summary>
    public void Write(WriteBatch batch, WriteOptions options) => _db.Write(batch, options);

    /// <summary>Writes the WAL's buffered tail to the file and syncs it (fsync/fdatasync).</summary>
    public void SyncWal() => Native.Instance.rocksdb_flush_wal(_db.Handle, 1);

    /// <summary>Everything durable and the WAL no longer needed: syncs the WAL, then flushes every column family's
    /// memtable into table files and waits for that, so the next open has nothing to replay.</summary>
    public void FlushToDisk()
    {
        SyncWal();
        Native.Instance.rocksdb_flush_cfs(_db.Handle, _flushOptions.Handle, _familyHandles, _familyHandles.Length);
    }

    /// <summary>Refuses new reads, waits for the reads in flight, and closes the database. Call once, after the writer stopped.</summary>
    public void Dispose()
    {
        if ((Interlocked.Or(ref _readState, Closing) & Closing) != 0)
        {
            return;
        }

        var spin = new SpinWait();
        while (Volatile.Read(ref _readState) != Closing)
        {
            spin.SpinOnce();
        }

        _db.Dispose();
    }

    /// <summary>Adds the deletion of the keys of <paramref name="family"/> in [<paramref name="start"/>, <paramref name="end"/>) to <paramref name="batch"/>.</summary>
    private static unsafe void StageDeleteRange(WriteBatch batch, ColumnFamilyHandle family, ReadOnlySpan<byte> start, ReadOnlySpan<byte> end)
    {
        fixed (byte* startKey = start)
        fixed (byte* endKey = end)
        {
            batch.DeleteRange(startKey, (ulong)start.Length, endKey, (ulong)end.Length, family);
        }
    }

    /// <summary>A pinned read of <paramref name="key"/> in <paramref name="family"/>, as <see cref="GetPinned(ReadOnlySpan{byte}, out ReadOnlySpan{byte})"/>.</summary>
    private unsafe IntPtr GetPinned(ColumnFamilyHandle family, ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        IntPtr pinned;
        fixed (byte* keyBytes = key)
        {
            pinned = Native.Instance.rocksdb_get_pinned_cf_v2(_db.Handle, _readOptions.Handle, family.Handle, keyBytes, (UIntPtr)key.Length);
        }

        if (pinned == IntPtr.Zero)
        {
            value = default;
            return IntPtr.Zero;
        }

        IntPtr data = Native.Instance.rocksdb_pinnable_handle_get_value(pinned, out UIntPtr length);
        value = new ReadOnlySpan<byte>((void*)data, checked((int)length));
        return pinned;
    }

    private unsafe IntPtr GetPinned(ReadOnlySpan<byte> dataKey, out ReadOnlySpan<byte> value)
    {
        IntPtr pinned;
        fixed (byte* key = dataKey)
        {
            pinned = Native.Instance.rocksdb_get_pinned_v2(_db.Handle, _readOptions.Handle, key, (UIntPtr)dataKey.Length);
        }

        if (pinned == IntPtr.Zero)
        {
            value = default;
            return IntPtr.Zero;
        }

        IntPtr data = Native.Instance.rocksdb_pinnable_handle_get_value(pinned, out UIntPtr length);
        value = new ReadOnlySpan<byte>((void*)data, checked((int)length));
        return pinned;
    }

    /// <summary>Checks the format version (stamping a new database) and returns the persisted counters.</summary>
    private (long KeyCount, long KeysWithExpiryCount) ReadMetadata()
    {
        byte[]? version = _db.Get(RocksDbMetadata.FormatVersionKey, Meta);
        if (version is null)
        {
            using var batch = new WriteBatch();
            batch.Put(RocksDbMetadata.FormatVersionKey, RocksDbMetadata.EncodeFormatVersion(RocksDbMetadata.CurrentFormatVersion), Meta);
            RocksDbMetadata.StageCounters(batch, Meta, 0, 0);
            WriteSynced(batch);
            return (0, 0);
        }

        int stored = RocksDbMetadata.DecodeFormatVersion(version);
        if (stored > RocksDbMetadata.CurrentFormatVersion)
        {
            throw new NotSupportedException(
                $"The RocksDB database '{Path}' has format version {stored}, but this version of Dynamite reads format " +
                $"versions up to {RocksDbMetadata.CurrentFormatVersion}. It was written by a newer Dynamite: run that " +
                "version, or point the data directory elsewhere.");
        }

        if (stored < RocksDbMetadata.CurrentFormatVersion)
        {
            // An older format has only fewer column families, which opening just created: restamp it.
            using var batch = new WriteBatch();
            batch.Put(RocksDbMetadata.FormatVersionKey, RocksDbMetadata.EncodeFormatVersion(RocksDbMetadata.CurrentFormatVersion), Meta);
            WriteSynced(batch);
        }

        byte[]? counters = _db.Get(RocksDbMetadata.CountersKey, Meta);
        return counters is null ? (0, 0) : RocksDbMetadata.DecodeCounters(counters);
    }

    private void WriteSynced(WriteBatch batch)
    {
        WriteOptions sync = new WriteOptions().SetSync(true);
        Write(batch, sync);

        // WriteOptions frees its native handle in a finalizer: keep it reachable until the write returned.
        GC.KeepAlive(sync);
    }
}
