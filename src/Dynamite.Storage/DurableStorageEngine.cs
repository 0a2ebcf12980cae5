using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;
using Dynamite.Storage.Metrics;

namespace Dynamite.Storage;

/// <summary>
/// What the durable engines (SQLite, RocksDB, LMDB) share around their storage: the settings, the key counters, and
/// every write going through one <see cref="GroupCommitWriter"/> (operations, the expiry sweep, clear, flush) and the
/// shutdown that drains it. Each engine supplies its reads and its writer.
/// </summary>
public abstract class DurableStorageEngine : IStorageEngine
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    private readonly EngineMetrics? _metrics;
    private int _disposed;

    /// <summary>Checks the settings; <see cref="DatabasePath"/> is <paramref name="databaseName"/> in the full path of
    /// <paramref name="dataDirectory"/>.</summary>
    private protected DurableStorageEngine(string dataDirectory, string databaseName, KeyPartitioner partitioner, FsyncPolicy fsyncPolicy, EngineMetrics? metrics)
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
        DatabasePath = Path.Combine(Path.GetFullPath(dataDirectory), databaseName);
    }

    public abstract string Name { get; }

    public KeyPartitioner Partitioner { get; }

    public FsyncPolicy FsyncPolicy { get; }

    /// <summary>The full path of the database (a file or a directory, as the engine keeps it) in the data directory.</summary>
    public string DatabasePath { get; }

    public long KeyCount => Writer.KeyCount;

    public long KeysWithExpiryCount => Writer.KeysWithExpiryCount;

    public long ChangedRecordCount => Writer.ChangedRecordCount;

    /// <summary>Commits the writer has made that changed the database. Fewer than writes is group commit at work;
    /// exposed for metrics and so tests can prove it.</summary>
    public long CommitCount => Writer.CommitCount;

    /// <summary>The engine's writer; set by its constructor.</summary>
    private protected abstract GroupCommitWriter Writer { get; }

    /// <summary>The engine's <see cref="RecordCache"/> (its writer keeps it coherent).</summary>
    public RecordCache Cache => Writer.Cache;

    /// <summary>Answers from the <see cref="RecordCache"/> when it holds the key; otherwise reads the database and caches
    /// a live record found.</summary>
    public bool TryRead(ReadOnlySpan<byte> key, long nowUnixMs, out StoredRecord record)
    {
        RecordCache cache = Writer.Cache;
        if (cache.TryGet(key, out CachedRecord cached))
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            return cached.TryGetLive(nowUnixMs, out record);
        }

        long fillToken = cache.BeginFill();
        if (!TryReadStored(key, nowUnixMs, out record))
        {
            return false;
        }

        cache.Fill(key, record, fillToken);
        return true;
    }

    public IKeyChangeListener? ChangeListener
    {
        get => Writer.ChangeListener;
        set => Writer.ChangeListener = value;
    }

    public abstract ScanPage Scan(ulong fromHash, int limit, long nowUnixMs);

    public abstract bool TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value);

    public ElementPage ScanElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var elements = new List<StoredElement>(Math.Min(limit, ElementNames.InitialPageCapacity));
        bool more = ReadElements(key, afterElement, limit, elements);
        return new ElementPage(elements, more);
    }

    public ElementPage ScanIndex(ReadOnlySpan<byte> key, byte[]? bound, int limit, bool backward)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var entries = new List<StoredElement>(Math.Min(limit, ElementNames.InitialPageCapacity));
        bool more = ReadIndex(key, bound, limit, backward, entries);
        return new ElementPage(entries, more);
    }

    /// <summary>
    /// Every live record of <paramref name="partition"/> in hash order, read lazily in chunks of a few hundred records,
    /// each its own short read: a long handoff never pins a snapshot (or delays <see cref="DisposeAsync"/>) for its
    /// whole duration. A key written or deleted during the iteration may or may not be seen; every key present
    /// throughout is returned exactly once.
    /// </summary>
    public IEnumerable<StoredEntry> ReadPartition(PartitionId partition, long nowUnixMs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(partition.Value, nameof(partition));
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(partition.Value, Partitioner.PartitionCount, nameof(partition));
        return ReadHashRange(Partitioner.FirstHashOf(partition), Partitioner.LastHashOf(partition), nowUnixMs);
    }

    public ValueTask ExecuteAsync(IStorageOperation operation, long nowUnixMs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operation);
        long started = _metrics is { Enabled: true } ? Stopwatch.GetTimestamp() : 0;
        return new ValueTask(Writer.EnqueueAsync(StorageWriteRequest.ForOperation(operation, nowUnixMs, started), cancellationToken));
    }

    public ValueTask<int> RemoveExpiredAsync(long nowUnixMs, int maxKeys, List<byte[]>? removedKeys = null, CancellationToken cancellationToken = default)
    {
        if (maxKeys <= 0)
        {
            return ValueTask.FromResult(0);
        }

        return new ValueTask<int>(Writer.EnqueueAsync(StorageWriteRequest.ForRemoveExpired(nowUnixMs, maxKeys, removedKeys), cancellationToken));
    }

    public ValueTask ClearAsync(CancellationToken cancellationToken = default) =>
        new(Writer.EnqueueAsync(StorageWriteRequest.For(StorageWriteKind.Clear), cancellationToken));

    /// <summary>Waits until every write queued before it is committed, then makes it all durable on disk under every
    /// fsync policy (the engine's documentation says how).</summary>
    public ValueTask FlushAsync(CancellationToken cancellationToken = default) =>
        new(Writer.EnqueueAsync(StorageWriteRequest.For(StorageWriteKind.Flush), cancellationToken));

    /// <summary>
    /// Refuses new writes (they throw <see cref="ObjectDisposedException"/>), lets the writer commit everything already
    /// queued and make it durable, then closes the database once reads in flight have finished. Throws
    /// <see cref="TimeoutException"/> if the writer needs more than 30 seconds, leaving the database open rather than
    /// closing it under a running commit. Idempotent.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // No engine has a finalizer; this keeps one a subclass might add from running after a dispose.
        GC.SuppressFinalize(this);
        try
        {
            await Writer.StopAsync(StopTimeout).ConfigureAwait(false);
        }
        finally
        {
            CloseReaders();
            if (Writer.HasStopped)
            {
                Writer.Dispose();
                CloseStore();
            }
        }
    }

    /// <summary>Reads the live record of <paramref name="key"/> from the database, without blocking on the writer.</summary>
    private protected abstract bool TryReadStored(ReadOnlySpan<byte> key, long nowUnixMs, out StoredRecord record);

    /// <summary>One read of committed elements from outside the writer thread, as <see cref="IElementReader.ReadElements"/>.</summary>
    private protected abstract bool ReadElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit, List<StoredElement> into);

    /// <summary>One read of committed index entries from outside the writer thread, as <see cref="ScanIndex"/>.</summary>
    private protected abstract bool ReadIndex(ReadOnlySpan<byte> key, byte[]? bound, int limit, bool backward, List<StoredElement> into);

    /// <summary>The live records with hash in [<paramref name="firstHash"/>, <paramref name="lastHash"/>], as
    /// <see cref="ReadPartition"/> describes.</summary>
    private protected abstract IEnumerable<StoredEntry> ReadHashRange(ulong firstHash, ulong lastHash, long nowUnixMs);

    /// <summary>
    /// Yields the records of chunk after chunk: <paramref name="readChunk"/> appends up to <paramref name="chunkSize"/>
    /// records from the store key it is given on, and returns the store key the next chunk starts at, null at the end.
    /// </summary>
    private protected static IEnumerable<StoredEntry> ReadInChunks(byte[] from, int chunkSize, Func<byte[], List<StoredEntry>, byte[]?> readChunk)
    {
        var chunk = new List<StoredEntry>(chunkSize);
        byte[]? next = from;
        while (next is not null)
        {
            chunk.Clear();
            next = readChunk(next, chunk);
            foreach (StoredEntry entry in chunk)
            {
                yield return entry;
            }
        }
    }

    /// <summary>Closes what reads use apart from the store, whether or not the writer stopped (SQLite: its read connections,
    /// before the writer's, so that the last connection to close can remove the WAL).</summary>
    private protected virtual void CloseReaders()
    {
    }

    /// <summary>Closes the database after the writer has stopped and been disposed (once reads in flight have finished).</summary>
    private protected virtual void CloseStore()
    {
    }
}
