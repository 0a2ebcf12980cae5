using System.Diagnostics;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;
using Dynamite.Storage.Metrics;

namespace Dynamite.Storage.Sqlite;

/// <summary>
/// The durable engine, and the default: one SQLite database (<c>dynamite.db</c> in the data directory) in WAL
/// journal mode, keys clustered by their XXH64 hash so that a partition or a scan page is one index range read
/// (schema: <see cref="SqliteSchema"/>).
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
/// Under every policy <see cref="FlushAsync"/> and <see cref="DisposeAsync"/> checkpoint the WAL into the
/// database file with syncs (<c>wal_checkpoint(TRUNCATE)</c>), so a clean shutdown leaves everything on disk.
/// </para>
/// </summary>
public sealed class SqliteStorageEngine : IStorageEngine
{
    /// <summary>Rows per read of <see cref="ReadPartition"/>; each chunk is its own short read transaction.</summary>
    private const int PartitionChunkRows = 256;

    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    private readonly SqliteReadPool _readers;
    private readonly SqliteWriter _writer;
    private readonly EngineMetrics? _metrics;
    private int _disposed;

    /// <summary>
    /// Opens (creating if needed) the database in <paramref name="dataDirectory"/>. Throws
    /// <see cref="NotSupportedException"/> if the database was written by a newer schema version. Writes and group
    /// commits are timed through <paramref name="metrics"/> when given.
    /// </summary>
    public SqliteStorageEngine(string dataDirectory, KeyPartitioner partitioner, FsyncPolicy fsyncPolicy, EngineMetrics? metrics = null, TimeProvider? clock = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        ArgumentNullException.ThrowIfNull(partitioner);
        if (!Enum.IsDefined(fsyncPolicy))
        {
            throw new ArgumentOutOfRangeException(nameof(fsyncPolicy), fsyncPolicy, "Unknown fsync policy.");
        }

        Partitioner = partitioner;
        FsyncPolicy = fsyncPolicy;
        _metrics = metrics;
        Directory.CreateDirectory(dataDirectory);
        DatabasePath = Path.Combine(Path.GetFullPath(dataDirectory), SqliteSchema.FileName);

        Microsoft.Data.Sqlite.SqliteConnection connection = SqliteSchema.OpenWriteConnection(DatabasePath, fsyncPolicy);
        SqliteReadPool? readers = null;
        try
        {
            (long keys, long keysWithExpiry) = SqliteSchema.CountKeys(connection);

            // Open one reader now, so a broken read path fails at startup rather than at the first read.
            readers = new SqliteReadPool(DatabasePath, Math.Clamp(Environment.ProcessorCount * 2, 4, 32));
            readers.Return(readers.Rent());
            _readers = readers;
            _writer = new SqliteWriter(connection, DatabasePath, fsyncPolicy, keys, keysWithExpiry, metrics, clock);
        }
        catch
        {
            readers?.Dispose();
            connection.Dispose();
            throw;
        }
    }

    public string Name => "sqlite";

    public KeyPartitioner Partitioner { get; }

    public FsyncPolicy FsyncPolicy { get; }

    /// <summary>The database file's full path.</summary>
    public string DatabasePath { get; }

    public long KeyCount => _writer.KeyCount;

    public long KeysWithExpiryCount => _writer.KeysWithExpiryCount;

    /// <summary>Transactions the writer has committed. Fewer commits than writes is group commit at work; exposed
    /// for metrics and so tests can prove it.</summary>
    public long CommitCount => _writer.CommitCount;

    public bool TryRead(ReadOnlySpan<byte> key, long nowUnixMs, out StoredRecord record)
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

    public ValueTask ExecuteAsync(IStorageOperation operation, long nowUnixMs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operation);
        long started = _metrics is { Enabled: true } ? Stopwatch.GetTimestamp() : 0;
        return new ValueTask(_writer.EnqueueAsync(StorageWriteRequest.ForOperation(operation, nowUnixMs, started), cancellationToken));
    }

    public ScanPage Scan(ulong fromHash, int limit, long nowUnixMs)
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

    /// <summary>
    /// Every live record of <paramref name="partition"/> in hash order, read lazily in chunks of a few hundred
    /// rows, each its own short read: a long handoff never pins a reader (or the WAL) for its whole duration.
    /// A key written or deleted during the iteration may or may not be seen; every key present throughout is
    /// returned exactly once.
    /// </summary>
    public IEnumerable<StoredEntry> ReadPartition(PartitionId partition, long nowUnixMs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(partition.Value, nameof(partition));
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(partition.Value, Partitioner.PartitionCount, nameof(partition));
        return ReadPartitionChunks(
            SqliteSchema.EncodeHash(Partitioner.FirstHashOf(partition)),
            SqliteSchema.EncodeHash(Partitioner.LastHashOf(partition)),
            nowUnixMs);
    }

    public ValueTask<int> RemoveExpiredAsync(long nowUnixMs, int maxKeys, CancellationToken cancellationToken = default)
    {
        if (maxKeys <= 0)
        {
            return ValueTask.FromResult(0);
        }

        return new ValueTask<int>(_writer.EnqueueAsync(StorageWriteRequest.ForRemoveExpired(nowUnixMs, maxKeys), cancellationToken));
    }

    public ValueTask ClearAsync(CancellationToken cancellationToken = default) =>
        new(_writer.EnqueueAsync(StorageWriteRequest.For(StorageWriteKind.Clear), cancellationToken));

    /// <summary>Waits until every write queued before it is committed, then checkpoints the WAL with syncs.</summary>
    public ValueTask FlushAsync(CancellationToken cancellationToken = default) =>
        new(_writer.EnqueueAsync(StorageWriteRequest.For(StorageWriteKind.Flush), cancellationToken));

    /// <summary>
    /// Refuses new writes (they throw <see cref="ObjectDisposedException"/>), lets the writer commit everything
    /// already queued and checkpoint, then closes every connection. Throws <see cref="TimeoutException"/> if the
    /// writer needs more than 30 seconds, leaving its connection open rather than closing it under a running commit.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await _writer.StopAsync(StopTimeout).ConfigureAwait(false);
        }
        finally
        {
            // Readers first: the last connection to close is the writer's, which lets SQLite remove the WAL.
            _readers.Dispose();
            if (_writer.HasStopped)
            {
                _writer.Dispose();
            }
        }
    }

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
