using System.Diagnostics.CodeAnalysis;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;
using Dynamite.Storage.Metrics;

namespace Dynamite.Storage.Sqlite;

/// <summary>
/// The durable engine, and the default: one SQLite database (<c>dynamite.db</c> in the data directory) in WAL
/// journal mode, keys clustered by their XXH64 hash so that a partition or a scan page is one index range read, and
/// the elements of typed keys clustered by (hash, key, element) beside them (schema: <see cref="SqliteSchema"/>).
/// <para>
/// Reads are synchronous and never wait on the writer: each takes a read-only connection from a small pool
/// (WAL lets readers run while the writer commits). Writes go through one bounded queue to one writer thread
/// with one connection, which group-commits: every queued operation available (up to 512) runs in queue order
/// in one transaction with one commit, and each caller's task completes only after that commit. An acknowledged
/// write therefore survives a crash of the process (kill -9) under every <see cref="FsyncPolicy"/>, and the
/// policies differ only in what a power loss or an operating-system crash can take:
/// </para>
/// <list type="bullet">
/// <item><description><see cref="FsyncPolicy.Always"/>: <c>PRAGMA synchronous=FULL</c>. Each group commit is fsynced
/// before it is acknowledged: acknowledged writes survive power loss.</description></item>
/// <item><description><see cref="FsyncPolicy.Batch"/>: <c>PRAGMA synchronous=NORMAL</c>. Commits are not fsynced;
/// the WAL is synced at checkpoints, which a thread of their own runs about once a second when something was
/// written (<see cref="SqliteCheckpointer"/>), so a power loss loses at most about the last second of acknowledged
/// writes.</description></item>
/// <item><description><see cref="FsyncPolicy.Never"/>: <c>PRAGMA synchronous=OFF</c>. The engine never syncs between
/// flushes; the operating system decides when data reaches the disk.</description></item>
/// </list>
/// <para>
/// Under every policy <see cref="DurableStorageEngine.FlushAsync"/> and <see cref="DurableStorageEngine.DisposeAsync"/> checkpoint the WAL into the
/// database file with syncs (<c>wal_checkpoint(TRUNCATE)</c>), so a clean shutdown leaves everything on disk.
/// </para>
/// </summary>
public sealed class SqliteStorageEngine : DurableStorageEngine
{
    /// <summary>Rows per read of <see cref="DurableStorageEngine.ReadPartition"/>; each chunk is its own short read transaction.</summary>
    private const int PartitionChunkRows = 256;

    private readonly SqliteReadPool _readers;
    private readonly SqliteWriter _writer;

    /// <summary>
    /// Opens (creating if needed) the database in <paramref name="dataDirectory"/>. Throws
    /// <see cref="NotSupportedException"/> if the database was written by a newer schema version. Writes and group
    /// commits are timed through <paramref name="metrics"/> when given.
    /// </summary>
    public SqliteStorageEngine(string dataDirectory, KeyPartitioner partitioner, FsyncPolicy fsyncPolicy, EngineMetrics? metrics = null, TimeProvider? clock = null, long recordCacheBytes = RecordCache.DefaultCapacityBytes)
        : base(dataDirectory, SqliteSchema.FileName, partitioner, fsyncPolicy, metrics)
    {
        Directory.CreateDirectory(dataDirectory);

        Microsoft.Data.Sqlite.SqliteConnection connection = SqliteSchema.OpenWriteConnection(DatabasePath, fsyncPolicy);
        SqliteReadPool? readers = null;
        try
        {
            (long keys, long keysWithExpiry) = SqliteSchema.CountKeys(connection);

            // Open one reader now, so a broken read path fails at startup rather than at the first read.
            readers = new SqliteReadPool(DatabasePath, Math.Clamp(Environment.ProcessorCount * 2, 4, 32));
            readers.Return(readers.Rent());
            _readers = readers;
            _writer = new SqliteWriter(connection, DatabasePath, fsyncPolicy, keys, keysWithExpiry, recordCacheBytes, metrics, clock);
        }
        catch
        {
            readers?.Dispose();
            connection.Dispose();
            throw;
        }
    }

    public override string Name => "sqlite";

    private protected override GroupCommitWriter Writer => _writer;

    private protected override bool TryReadStored(ReadOnlySpan<byte> key, long nowUnixMs, out StoredRecord record)
    {
        SqliteReadConnection reader = _readers.Rent();
        try
        {
            return reader.TryRead(key, nowUnixMs, out record);
        }
        finally
        {
            _readers.Return(reader);
        }
    }

    public override bool TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value)
    {
        SqliteReadConnection reader = _readers.Rent();
        try
        {
            return reader.TryReadElement(key, element, out value);
        }
        finally
        {
            _readers.Return(reader);
        }
    }

    public override ScanPage Scan(ulong fromHash, int limit, long nowUnixMs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        SqliteReadConnection reader = _readers.Rent();
        try
        {
            return reader.Scan(fromHash, limit, nowUnixMs);
        }
        finally
        {
            _readers.Return(reader);
        }
    }

    private protected override bool ReadElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit, List<StoredElement> into)
    {
        SqliteReadConnection reader = _readers.Rent();
        try
        {
            return reader.ReadElements(key, afterElement, limit, into);
        }
        finally
        {
            _readers.Return(reader);
        }
    }

    private protected override bool ReadIndex(ReadOnlySpan<byte> key, byte[]? bound, int limit, bool backward, List<StoredElement> into)
    {
        SqliteReadConnection reader = _readers.Rent();
        try
        {
            return reader.ReadIndex(key, bound, limit, backward, into);
        }
        finally
        {
            _readers.Return(reader);
        }
    }

    /// <summary>Readers first: the last connection to close is the writer's, which lets SQLite remove the WAL.</summary>
    private protected override void CloseReaders() => _readers.Dispose();

    /// <summary>Each chunk is its own short read, so a long handoff never pins a reader (or the WAL).</summary>
    private protected override IEnumerable<StoredEntry> ReadHashRange(ulong firstHash, ulong lastHash, long nowUnixMs) =>
        ReadPartitionChunks(SqliteSchema.EncodeHash(firstHash), SqliteSchema.EncodeHash(lastHash), nowUnixMs);

    private IEnumerable<StoredEntry> ReadPartitionChunks(long firstHash, long lastHash, long nowUnixMs)
    {
        var chunk = new List<StoredEntry>(PartitionChunkRows);
        long fromHash = firstHash;
        byte[] fromKey = [];
        while (true)
        {
            chunk.Clear();
            long lastReadHash;
            SqliteReadConnection reader = _readers.Rent();
            try
            {
                lastReadHash = reader.ReadPartitionChunk(fromHash, fromKey, lastHash, nowUnixMs, PartitionChunkRows, chunk);
            }
            finally
            {
                _readers.Return(reader);
            }

            foreach (StoredEntry entry in chunk)
            {
                yield return entry;
            }

            if (chunk.Count < PartitionChunkRows)
            {
                yield break;
            }

            // Resume just after the last key: key + 0x00 is the smallest blob that sorts after it.
            byte[] lastKey = chunk[^1].Key;
            fromKey = new byte[lastKey.Length + 1];
            lastKey.CopyTo(fromKey, 0);
            fromHash = lastReadHash;
        }
    }
}
