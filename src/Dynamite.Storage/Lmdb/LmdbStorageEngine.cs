using System.Diagnostics.CodeAnalysis;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;
using Dynamite.Storage.Metrics;
using LightningDB;

namespace Dynamite.Storage.Lmdb;

/// <summary>
/// A durable engine on LMDB (a copy-on-write B+tree in one memory-mapped file: readers read the map directly and
/// never block, one writer at a time), in the <c>lmdb</c> directory of the data directory. One environment holds four
/// named databases: <c>data</c>, with keys stored under their big-endian XXH64 hash (<see cref="LmdbKeys"/>), so a
/// partition or a scan page is one cursor seek and a forward walk; <c>expiry</c>, indexing the records that expire by
/// time, so the expiry sweep reads only what has expired; <c>meta</c>, the format version and the key counters,
/// written in the same transaction as the changes that move them; and <c>elements</c>, the elements of typed keys,
/// each key's elements one range, changed in the same transaction as the records. Records carry their expiry (<see cref="LmdbRecordCodec"/>).
/// <para>
/// Reads are synchronous and lock-free: a read-only transaction (reused, <see cref="LmdbReaderPool"/>) and one B-tree
/// lookup in the map, the value copied once into the returned record before the transaction ends. Writes go through
/// one bounded queue to one writer thread that group-commits (<see cref="LmdbWriter"/>): the operations available (up
/// to 512) run in queue order against an overlay of the group's staged changes, then all of their changes are applied
/// in one write transaction, committed once; each caller's task completes only after that commit. A commit writes its
/// pages to the operating system, so an acknowledged write survives a crash of the process (kill -9) under every
/// <see cref="FsyncPolicy"/>; the policies differ in what a power loss or an operating-system crash can take:
/// </para>
/// <list type="bullet">
/// <item><description><see cref="FsyncPolicy.Always"/>: LMDB syncs each commit before it returns: acknowledged writes
/// survive power loss.</description></item>
/// <item><description><see cref="FsyncPolicy.Batch"/>: the environment is opened with <c>MDB_NOSYNC</c>, and a thread
/// of its own syncs the data file about once a second when something was committed (<see cref="LmdbSyncSchedule"/>),
/// so the writer never waits for the disk. LMDB's own caveat for NOSYNC applies: a power loss may lose about the last
/// second, and since an unsynced commit's pages are not ordered before its meta page, may damage the database.</description></item>
/// <item><description><see cref="FsyncPolicy.Never"/>: <c>MDB_NOSYNC</c>, and the engine never syncs between flushes;
/// the operating system decides when data reaches the disk (the same caveat).</description></item>
/// </list>
/// <para>
/// Under every policy <see cref="DurableStorageEngine.FlushAsync"/> and <see cref="DurableStorageEngine.DisposeAsync"/> sync the data file. The map size
/// (<see cref="DefaultMapSizeBytes"/> unless given) is only reserved address space: the file grows with the data. A
/// write that does not fit fails with <see cref="LmdbMapFullException"/> and nothing of its group is applied. The
/// engine takes an exclusive lock on its directory: a second engine (or process) on the same data directory fails to
/// open rather than write beside it. On Linux it uses the system's LMDB 0.9 (<c>liblmdb0</c>, see
/// <see cref="LmdbNativeLibrary"/>).
/// </para>
/// </summary>
public sealed class LmdbStorageEngine : DurableStorageEngine
{
    /// <summary>The environment's directory inside the data directory.</summary>
    public const string DirectoryName = "lmdb";

    /// <summary>The default map size: the most the database can hold. Address space only (64-bit processes have
    /// plenty); the file holds only what is written.</summary>
    public const long DefaultMapSizeBytes = 64L << 30;

    /// <summary>Live records per iteration of <see cref="DurableStorageEngine.ReadPartition"/>; each chunk is its own short read transaction.</summary>
    private const int PartitionChunkRecords = 256;

    private readonly LmdbStore _store;
    private readonly LmdbWriter _writer;

    /// <summary>
    /// Opens (creating if needed) the database in <paramref name="dataDirectory"/>. Throws
    /// <see cref="NotSupportedException"/> if it was written in a newer format, and <see cref="IOException"/> if it is
    /// already open. Writes and group commits are timed through <paramref name="metrics"/> when given; the batch
    /// policy's syncs are scheduled on <paramref name="clock"/> (default: the system clock). The database can hold up to
    /// <paramref name="mapSizeBytes"/>.
    /// </summary>
    public LmdbStorageEngine(
        string dataDirectory,
        KeyPartitioner partitioner,
        FsyncPolicy fsyncPolicy,
        EngineMetrics? metrics = null,
        TimeProvider? clock = null,
        long mapSizeBytes = DefaultMapSizeBytes,
        long recordCacheBytes = RecordCache.DefaultCapacityBytes)
        : base(dataDirectory, DirectoryName, partitioner, fsyncPolicy, metrics)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(mapSizeBytes, 1L << 20);
        (LmdbStore store, long keys, long keysWithExpiry) = LmdbStore.Open(DatabasePath, noSync: fsyncPolicy != FsyncPolicy.Always, mapSizeBytes);
        _store = store;
        try
        {
            _writer = new LmdbWriter(store, fsyncPolicy, keys, keysWithExpiry, recordCacheBytes, metrics, clock);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    public override string Name => "lmdb";

    /// <summary>The batch policy's periodic syncs so far (0 under the other policies).</summary>
    public long SyncCount => _writer.SyncCount;

    private protected override GroupCommitWriter Writer => _writer;

    private protected override bool TryReadStored(ReadOnlySpan<byte> key, long nowUnixMs, out StoredRecord record)
    {
        _store.EnterRead();
        try
        {
            LightningTransaction transaction = _store.Readers.Rent();
            try
            {
                return _store.TryReadKey(transaction, key, nowUnixMs, out record);
            }
            finally
            {
                _store.Readers.Return(transaction);
            }
        }
        finally
        {
            _store.ExitRead();
        }
    }

    public override bool TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value)
    {
        _store.EnterRead();
        try
        {
            LightningTransaction transaction = _store.Readers.Rent();
            try
            {
                return _store.TryReadElement(transaction, _store.Elements, key, element, out value);
            }
            finally
            {
                _store.Readers.Return(transaction);
            }
        }
        finally
        {
            _store.ExitRead();
        }
    }

    /// <summary>One scan page with the <see cref="IStorageEngine.Scan"/> contract: after <paramref name="limit"/> keys,
    /// keys that share the last key's hash are still taken, and the page ends before the first different hash.</summary>
    public override ScanPage Scan(ulong fromHash, int limit, long nowUnixMs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var keys = new List<byte[]>(Math.Min(limit, 1024));
        _store.EnterRead();
        try
        {
            LightningTransaction transaction = _store.Readers.Rent();
            try
            {
                using LightningCursor cursor = transaction.CreateCursor(_store.Data);
                ulong lastHash = 0;
                (MDBResultCode result, MDBValue key, MDBValue value) = LmdbStore.Seek(cursor, LmdbKeys.HashPrefix(fromHash));
                for (; result == MDBResultCode.Success; (result, key, value) = cursor.Next())
                {
                    ReadOnlySpan<byte> encoded = value.AsSpan();
                    if (!LmdbRecordCodec.IsLiveAt(encoded, nowUnixMs))
                    {
                        continue;
                    }

                    ReadOnlySpan<byte> dataKey = key.AsSpan();
                    ulong hash = LmdbKeys.HashOf(dataKey);
                    if (keys.Count >= limit && hash != lastHash)
                    {
                        return new ScanPage(keys, hash);
                    }

                    keys.Add(UserKeyOf(dataKey, encoded).ToArray());
                    lastHash = hash;
                }

                ThrowUnlessEnd(result);
                return new ScanPage(keys, null);
            }
            finally
            {
                _store.Readers.Return(transaction);
            }
        }
        finally
        {
            _store.ExitRead();
        }
    }

    private protected override void CloseStore() => _store.Dispose();

    private protected override bool ReadElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit, List<StoredElement> into)
    {
        _store.EnterRead();
        try
        {
            LightningTransaction transaction = _store.Readers.Rent();
            try
            {
                return _store.ReadElements(transaction, _store.Elements, key, afterElement, limit, into);
            }
            finally
            {
                _store.Readers.Return(transaction);
            }
        }
        finally
        {
            _store.ExitRead();
        }
    }

    private protected override bool ReadIndex(ReadOnlySpan<byte> key, byte[]? bound, int limit, bool backward, List<StoredElement> into)
    {
        _store.EnterRead();
        try
        {
            LightningTransaction transaction = _store.Readers.Rent();
            try
            {
                IElementReader reader = new LmdbIndexReader(_store, () => transaction);
                return backward ? reader.ReadElementsBackward(key, bound, limit, into) : reader.ReadElements(key, bound, limit, into);
            }
            finally
            {
                _store.Readers.Return(transaction);
            }
        }
        finally
        {
            _store.ExitRead();
        }
    }

    /// <summary>Throws unless a cursor walk stopped because it reached the end of the database.</summary>
    private void ThrowUnlessEnd(MDBResultCode result)
    {
        if (result != MDBResultCode.NotFound)
        {
            _store.Check(result);
        }
    }

    /// <summary>The user key of a stored entry: inline in its data key, or carried by the record of a long key.</summary>
    private static ReadOnlySpan<byte> UserKeyOf(ReadOnlySpan<byte> dataKey, ReadOnlySpan<byte> encoded) =>
        LmdbKeys.IsLongDataKey(dataKey) ? LmdbRecordCodec.KeyOf(encoded) : LmdbKeys.InlineUserKeyOf(dataKey);

    /// <summary>Each chunk is its own short read transaction: a long handoff never holds a snapshot, which would keep
    /// LMDB from reusing the pages freed meanwhile, and grow the file.</summary>
    private protected override IEnumerable<StoredEntry> ReadHashRange(ulong firstHash, ulong lastHash, long nowUnixMs) =>
        ReadInChunks(LmdbKeys.HashPrefix(firstHash), PartitionChunkRecords, (from, into) => ReadPartitionChunk(from, lastHash, nowUnixMs, into));

    /// <summary>
    /// Appends up to <see cref="PartitionChunkRecords"/> live records with data key &gt;= <paramref name="from"/> and
    /// hash &lt;= <paramref name="lastHash"/> to <paramref name="into"/>; returns where the next chunk starts (just after
    /// the last key read), or null when the partition is exhausted.
    /// </summary>
    private byte[]? ReadPartitionChunk(byte[] from, ulong lastHash, long nowUnixMs, List<StoredEntry> into)
    {
        _store.EnterRead();
        try
        {
            LightningTransaction transaction = _store.Readers.Rent();
            try
            {
                using LightningCursor cursor = transaction.CreateCursor(_store.Data);
                (MDBResultCode result, MDBValue key, MDBValue value) = LmdbStore.Seek(cursor, from);
                for (; result == MDBResultCode.Success; (result, key, value) = cursor.Next())
                {
                    ReadOnlySpan<byte> dataKey = key.AsSpan();
                    if (LmdbKeys.HashOf(dataKey) > lastHash)
                    {
                        return null;
                    }

                    ReadOnlySpan<byte> encoded = value.AsSpan();
                    if (!LmdbRecordCodec.IsLiveAt(encoded, nowUnixMs))
                    {
                        continue;
                    }

                    into.Add(new StoredEntry(UserKeyOf(dataKey, encoded).ToArray(), LmdbRecordCodec.Decode(encoded)));
                    if (into.Count == PartitionChunkRecords)
                    {
                        return LmdbKeys.Successor(dataKey);
                    }
                }

                ThrowUnlessEnd(result);
                return null;
            }
            finally
            {
                _store.Readers.Return(transaction);
            }
        }
        finally
        {
            _store.ExitRead();
        }
    }
}
