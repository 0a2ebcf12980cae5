using System.Diagnostics.CodeAnalysis;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;
using Dynamite.Storage.Metrics;
using RocksDbSharp;

namespace Dynamite.Storage.RocksDb;

/// <summary>
/// A durable engine on RocksDB (an LSM tree: writes are appended to a WAL and a memtable, and compacted into sorted
/// files in the background), in the <c>rocksdb</c> directory of the data directory. Keys are stored under their
/// big-endian XXH64 hash (<see cref="RocksDbKeys"/>), so a partition or a scan page is one seek and a forward
/// iteration; records carry their expiry (<see cref="RocksDbRecordCodec"/>), and a second column family indexes the
/// keys that have one by time, so the expiry sweep reads only what has expired. The key counters live in a third
/// column family, written in the same batch as the changes that move them. A fourth holds the elements of typed keys,
/// each key's elements one range (<see cref="RocksDbKeys"/>), changed in the same batch as the records.
/// <para>
/// Reads are synchronous and lock-free: a RocksDB point read pinned in RocksDB's memory and copied once into the
/// returned record. Writes go through one bounded queue to one writer thread that group-commits
/// (<see cref="RocksDbWriter"/>): the operations available (up to 512) run in queue order against an overlay of
/// the group's staged changes, and all of their changes are written as one atomic <see cref="WriteBatch"/>; each
/// caller's task completes only after that write returned. Every write goes through the WAL, so an acknowledged
/// write survives a crash of the process (kill -9) under every <see cref="FsyncPolicy"/>; the policies differ in
/// what a power loss or an operating-system crash can take:
/// </para>
/// <list type="bullet">
/// <item><description><see cref="FsyncPolicy.Always"/>: each group's write is synced (<c>WriteOptions.sync</c>) before
/// it is acknowledged: acknowledged writes survive power loss.</description></item>
/// <item><description><see cref="FsyncPolicy.Batch"/>: writes are not synced; the writer syncs the WAL about once a
/// second when something was written, so a power loss loses at most about the last second.</description></item>
/// <item><description><see cref="FsyncPolicy.Never"/>: the engine never syncs between flushes; the operating system
/// decides when data reaches the disk.</description></item>
/// </list>
/// <para>
/// Under every policy <see cref="DurableStorageEngine.FlushAsync"/> and <see cref="DurableStorageEngine.DisposeAsync"/> sync the WAL and flush the memtables
/// to table files, so a clean shutdown leaves everything on disk and nothing to replay. RocksDB locks its
/// directory: a second engine (or process) on the same data directory fails to open rather than corrupt it.
/// </para>
/// </summary>
public sealed class RocksDbStorageEngine : DurableStorageEngine
{
    /// <summary>The database's directory inside the data directory.</summary>
    public const string DirectoryName = "rocksdb";

    /// <summary>Live records per iteration of <see cref="DurableStorageEngine.ReadPartition"/>; each chunk is its own short iterator.</summary>
    private const int PartitionChunkRecords = 256;

    private readonly RocksDbStore _store;
    private readonly RocksDbWriter _writer;

    /// <summary>
    /// Opens (creating if needed) the database in <paramref name="dataDirectory"/>. Throws
    /// <see cref="NotSupportedException"/> if it was written in a newer format, and RocksDB's exception if it is
    /// already open. Writes and group commits are timed through <paramref name="metrics"/> when given; the batch
    /// policy's WAL syncs are scheduled on <paramref name="clock"/> (default: the system clock).
    /// </summary>
    public RocksDbStorageEngine(string dataDirectory, KeyPartitioner partitioner, FsyncPolicy fsyncPolicy, EngineMetrics? metrics = null, TimeProvider? clock = null, long recordCacheBytes = RecordCache.DefaultCapacityBytes)
        : base(dataDirectory, DirectoryName, partitioner, fsyncPolicy, metrics)
    {
        (RocksDbStore store, long keys, long keysWithExpiry) = RocksDbStore.Open(DatabasePath);
        _store = store;
        try
        {
            _writer = new RocksDbWriter(store, fsyncPolicy, keys, keysWithExpiry, recordCacheBytes, metrics, clock);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    public override string Name => "rocksdb";

    /// <summary>The batch policy's periodic WAL syncs so far (0 under the other policies).</summary>
    public long WalSyncCount => _writer.WalSyncCount;

    private protected override GroupCommitWriter Writer => _writer;

    private protected override bool TryReadStored(ReadOnlySpan<byte> key, long nowUnixMs, out StoredRecord record)
    {
        _store.EnterRead();
        try
        {
            return _store.TryReadKey(key, nowUnixMs, out record);
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
            return _store.TryReadElement(_store.ElementSpace, key, element, out value);
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
            using Iterator iterator = _store.NewIterator(_store.Data);
            ulong lastHash = 0;
            for (iterator.Seek(RocksDbKeys.HashPrefix(fromHash)); iterator.Valid(); iterator.Next())
            {
                if (!RocksDbRecordCodec.IsLiveAt(iterator.GetValueSpan(), nowUnixMs))
                {
                    continue;
                }

                ReadOnlySpan<byte> dataKey = iterator.GetKeySpan();
                ulong hash = RocksDbKeys.HashOf(dataKey);
                if (keys.Count >= limit && hash != lastHash)
                {
                    return new ScanPage(keys, hash);
                }

                keys.Add(RocksDbKeys.UserKeyOf(dataKey).ToArray());
                lastHash = hash;
            }

            RocksDbStore.ThrowIfFailed(iterator);
            return new ScanPage(keys, null);
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
            return _store.ReadElements(_store.ElementSpace, key, afterElement, limit, into);
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
            // Not from the ends the writer remembers: a commit between taking one and opening the iterator could move
            // an entry past it (a member's new score), and the read would miss the member, in neither state. The writer
            // reads the ends safely, since only it commits.
            return backward
                ? _store.ReadElementsBackward(_store.IndexSpace, key, bound, limit, into, useRememberedEnds: false)
                : _store.ReadElements(_store.IndexSpace, key, bound, limit, into, useRememberedEnds: false);
        }
        finally
        {
            _store.ExitRead();
        }
    }

    /// <summary>Each chunk is its own short-lived iterator, so a long handoff never pins old table files.</summary>
    private protected override IEnumerable<StoredEntry> ReadHashRange(ulong firstHash, ulong lastHash, long nowUnixMs) =>
        ReadInChunks(RocksDbKeys.HashPrefix(firstHash), PartitionChunkRecords, (from, into) => ReadPartitionChunk(from, lastHash, nowUnixMs, into));

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
            using Iterator iterator = _store.NewIterator(_store.Data);
            for (iterator.Seek(from); iterator.Valid(); iterator.Next())
            {
                ReadOnlySpan<byte> dataKey = iterator.GetKeySpan();
                if (RocksDbKeys.HashOf(dataKey) > lastHash)
                {
                    return null;
                }

                ReadOnlySpan<byte> encoded = iterator.GetValueSpan();
                if (!RocksDbRecordCodec.IsLiveAt(encoded, nowUnixMs))
                {
                    continue;
                }

                into.Add(new StoredEntry(RocksDbKeys.UserKeyOf(dataKey).ToArray(), RocksDbRecordCodec.Decode(encoded)));
                if (into.Count == PartitionChunkRecords)
                {
                    return RocksDbKeys.Successor(dataKey);
                }
            }

            RocksDbStore.ThrowIfFailed(iterator);
            return null;
        }
        finally
        {
            _store.ExitRead();
        }
    }
}
