using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;
using LightningDB;

namespace Dynamite.Storage.Lmdb;

/// <summary>
/// The opened LMDB environment with its four named databases, and the few primitives the engine builds on: point
/// reads that copy the value out of the memory map (a key's elements: <see cref="LmdbElementReads"/>), reused read-only transactions, checked
/// puts and deletes, commit and sync.
/// <para>
/// Thread-safety: LMDB read transactions run on any thread beside the one writer (readers never block and are never
/// blocked). What is not safe is touching a handle after <see cref="Dispose"/> closed the environment, which would
/// crash the process rather than throw; so every read from outside the writer thread runs between
/// <see cref="EnterRead"/> and <see cref="ExitRead"/>, and <see cref="Dispose"/> waits for reads in flight before
/// closing. That guard is one interlocked increment and decrement, never a lock.
/// </para>
/// <para>
/// LMDB itself lets several processes share an environment; the engine does not (its counters live in memory), so it
/// holds an exclusive lock on a file of its own in the directory for as long as it is open: a second engine, in this
/// process or another, fails to open rather than write beside it.
/// </para>
/// </summary>
internal sealed class LmdbStore : IDisposable
{
    /// <summary>The named databases: data, expiry, meta, elements, index entries, and one spare.</summary>
    public const int MaxDatabases = 6;

    /// <summary>Reader-table slots: concurrent read transactions (pooled and transient) across the process.</summary>
    public const int MaxReaders = 512;

    /// <summary>The file whose exclusive lock says the directory is in use.</summary>
    public const string LockFileName = "dynamite.lock";

    /// <summary>Sign bit of <see cref="_readState"/>: set once closing has begun.</summary>
    private const int Closing = int.MinValue;

    private readonly LightningEnvironment _environment;
    private readonly FileStream _lock;

    // Low 31 bits: reads in flight; sign bit: Closing.
    private int _readState;

    private LmdbStore(
        LightningEnvironment environment,
        FileStream lockFile,
        string path,
        long mapSizeBytes,
        LightningDatabase data,
        LightningDatabase expiry,
        LightningDatabase meta,
        LightningDatabase elements,
        LightningDatabase indexEntries)
    {
        _environment = environment;
        _lock = lockFile;
        Path = path;
        MapSizeBytes = mapSizeBytes;
        Data = data;
        Expiry = expiry;
        Meta = meta;
        Elements = elements;
        IndexEntries = indexEntries;
        Readers = new LmdbReaderPool(environment);
    }

    /// <summary>The environment's directory.</summary>
    public string Path { get; }

    public long MapSizeBytes { get; }

    public LightningDatabase Data { get; }

    public LightningDatabase Expiry { get; }

    public LightningDatabase Meta { get; }

    public LightningDatabase Elements { get; }

    /// <summary>The index entries, keyed as elements are (the entry in the name's place), with empty values.</summary>
    public LightningDatabase IndexEntries { get; }

    /// <summary>Reused read-only transactions for reads from outside the writer thread.</summary>
    public LmdbReaderPool Readers { get; }

    /// <summary>
    /// Opens (creating if needed) the environment in <paramref name="path"/> and returns it with its persisted key
    /// counters. <paramref name="noSync"/> opens it with <c>MDB_NOSYNC</c>: commits are written to the operating
    /// system but not synced (<see cref="Sync"/> does that). Throws <see cref="NotSupportedException"/> for a database
    /// of a newer format (leaving it unchanged), and <see cref="IOException"/> if another engine has it open.
    /// </summary>
    public static (LmdbStore Store, long KeyCount, long KeysWithExpiryCount) Open(string path, bool noSync, long mapSizeBytes)
    {
        LmdbNativeLibrary.EnsureResolver();
        Directory.CreateDirectory(path);
        FileStream lockFile = LockDirectory(path);
        LightningEnvironment? environment = null;
        try
        {
            environment = new LightningEnvironment(path, new EnvironmentConfiguration
            {
                MapSize = mapSizeBytes,
                MaxDatabases = MaxDatabases,
                MaxReaders = MaxReaders,
            });

            // NOTLS: read transactions belong to no thread, so async callers may end them elsewhere, and one thread may
            // hold several (a partition read beside a point read).
            EnvironmentOpenFlags flags = EnvironmentOpenFlags.NoThreadLocalStorage;
            if (noSync)
            {
                flags |= EnvironmentOpenFlags.NoSync;
            }

            environment.Open(flags);
            if (environment.MaxKeySize < LmdbKeys.MaxStoredKeyLength)
            {
                throw new NotSupportedException(
                    $"The LMDB library accepts keys of up to {environment.MaxKeySize} bytes; the lmdb engine needs " +
                    $"{LmdbKeys.MaxStoredKeyLength} (LMDB's default build allows 511).");
            }

            return OpenDatabases(environment, lockFile, path, mapSizeBytes);
        }
        catch
        {
            environment?.Dispose();
            lockFile.Dispose();
            throw;
        }
    }

    /// <summary>Starts a read from outside the writer thread; throws <see cref="ObjectDisposedException"/> once closing began.</summary>
    public void EnterRead()
    {
        if (Interlocked.Increment(ref _readState) < 0)
        {
            Interlocked.Decrement(ref _readState);
            throw new ObjectDisposedException(nameof(LmdbStorageEngine));
        }
    }

    public void ExitRead() => Interlocked.Decrement(ref _readState);

    /// <summary>A write transaction; only the writer thread begins one.</summary>
    public LightningTransaction BeginWrite() => _environment.BeginTransaction();

    /// <summary>
    /// Reads the live record of the user key <paramref name="key"/> in <paramref name="transaction"/> (read-only or the
    /// writer's); expired or absent reads as false. The value is copied out of the map into the returned record.
    /// </summary>
    public bool TryReadKey(LightningTransaction transaction, ReadOnlySpan<byte> key, long nowUnixMs, out StoredRecord record)
    {
        Span<byte> dataKey = stackalloc byte[LmdbKeys.StackKeyLimit];
        dataKey = dataKey[..LmdbKeys.DataKeyLength(key.Length)];
        LmdbKeys.WriteDataKey(dataKey, KeyPartitioner.HashKey(key), key);
        if (TryGet(transaction, Data, dataKey, out ReadOnlySpan<byte> encoded)
            && IsRecordOf(key, encoded)
            && LmdbRecordCodec.IsLiveAt(encoded, nowUnixMs))
        {
            record = LmdbRecordCodec.Decode(encoded);
            return true;
        }

        record = default;
        return false;
    }

    /// <summary>
    /// Reads the user key <paramref name="key"/> in the writer's <paramref name="transaction"/>: true if its data key is
    /// stored (expired or not, as <see cref="TryReadExpiry"/> finds it), with its expiry, and the record in
    /// <paramref name="liveRecord"/> if it is this key's and live at <paramref name="nowUnixMs"/>.
    /// </summary>
    public bool TryReadStoredKey(LightningTransaction transaction, ReadOnlySpan<byte> key, long nowUnixMs, out long storedExpiry, out StoredRecord? liveRecord)
    {
        Span<byte> dataKey = stackalloc byte[LmdbKeys.StackKeyLimit];
        dataKey = dataKey[..LmdbKeys.DataKeyLength(key.Length)];
        LmdbKeys.WriteDataKey(dataKey, KeyPartitioner.HashKey(key), key);
        if (!TryGet(transaction, Data, dataKey, out ReadOnlySpan<byte> encoded))
        {
            storedExpiry = 0;
            liveRecord = null;
            return false;
        }

        storedExpiry = LmdbRecordCodec.ReadExpiry(encoded);
        liveRecord = IsRecordOf(key, encoded) && LmdbRecordCodec.IsLiveAt(encoded, nowUnixMs) ? LmdbRecordCodec.Decode(encoded) : null;
        return true;
    }

    /// <summary>Whether <paramref name="dataKey"/> is stored (expired or not), and its expiry; copies nothing.</summary>
    public bool TryReadExpiry(LightningTransaction transaction, ReadOnlySpan<byte> dataKey, out long expiresAtUnixMs)
    {
        if (TryGet(transaction, Data, dataKey, out ReadOnlySpan<byte> encoded))
        {
            expiresAtUnixMs = LmdbRecordCodec.ReadExpiry(encoded);
            return true;
        }

        expiresAtUnixMs = 0;
        return false;
    }

    /// <summary>Deletes every entry of <paramref name="database"/> that starts with <paramref name="prefix"/> (a key's
    /// elements) in the writer's <paramref name="transaction"/>; seeks again after each delete rather than relying on
    /// where a deletion leaves the cursor.</summary>
    public void DeleteRange(LightningTransaction transaction, LightningDatabase database, ReadOnlySpan<byte> prefix)
    {
        using LightningCursor cursor = transaction.CreateCursor(database);
        while (true)
        {
            (MDBResultCode result, MDBValue entryKey, _) = Seek(cursor, prefix);
            if (result == MDBResultCode.NotFound || (result == MDBResultCode.Success && !entryKey.AsSpan().StartsWith(prefix)))
            {
                return;
            }

            Check(result);
            Check(cursor.Delete());
        }
    }

    /// <summary>Positions <paramref name="cursor"/> at the first key &gt;= <paramref name="from"/> and returns that entry.</summary>
    public static (MDBResultCode Result, MDBValue Key, MDBValue Value) Seek(LightningCursor cursor, ReadOnlySpan<byte> from)
    {
        MDBResultCode result = cursor.SetRange(from);
        return result == MDBResultCode.Success ? cursor.GetCurrent() : (result, default, default);
    }

    /// <summary>The value of <paramref name="key"/>, a span into the map valid until the transaction's next write or end.</summary>
    public bool TryGet(LightningTransaction transaction, LightningDatabase database, ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        (MDBResultCode result, _, MDBValue found) = transaction.Get(database, key);
        if (result == MDBResultCode.Success)
        {
            value = found.AsSpan();
            return true;
        }

        if (result != MDBResultCode.NotFound)
        {
            Check(result);
        }

        value = default;
        return false;
    }

    public void Put(LightningTransaction transaction, LightningDatabase database, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value) =>
        Check(transaction.Put(database, key, value));

    /// <summary>Deletes <paramref name="key"/>; an absent key is not an error.</summary>
    public void Delete(LightningTransaction transaction, LightningDatabase database, ReadOnlySpan<byte> key)
    {
        MDBResultCode result = transaction.Delete(database, key);
        if (result != MDBResultCode.NotFound)
        {
            Check(result);
        }
    }

    /// <summary>Empties <paramref name="database"/> in <paramref name="transaction"/> (its pages go back to the free list).</summary>
    public void Truncate(LightningTransaction transaction, LightningDatabase database) => Check(transaction.TruncateDatabase(database));

    public void PutCounters(LightningTransaction transaction, long keyCount, long keysWithExpiryCount)
    {
        Span<byte> encoded = stackalloc byte[LmdbMetadata.CountersLength];
        LmdbMetadata.EncodeCounters(encoded, keyCount, keysWithExpiryCount);
        Put(transaction, Meta, LmdbMetadata.CountersKey, encoded);
    }

    /// <summary>Commits <paramref name="transaction"/>: all of it or, if this throws, none of it (LMDB frees a failed commit's transaction).</summary>
    public void Commit(LightningTransaction transaction) => Check(transaction.Commit());

    /// <summary>Syncs the data file (<c>mdb_env_sync</c> forced): every committed transaction is on the disk when it
    /// returns. Safe beside the writer's commits, from any thread.</summary>
    public void Sync() => Check(_environment.Flush(force: true));

    /// <summary>Throws for an LMDB result other than success: <see cref="LmdbMapFullException"/> for a full map,
    /// LightningDB's <see cref="LightningException"/> (with the LMDB error text) otherwise.</summary>
    public void Check(MDBResultCode result)
    {
        if (result == MDBResultCode.Success)
        {
            return;
        }

        if (result == MDBResultCode.MapFull)
        {
            throw new LmdbMapFullException(Path, MapSizeBytes);
        }

        result.ThrowOnError();
    }

    /// <summary>Refuses new reads, waits for the reads in flight, and closes the environment. Call once, after the writer stopped.</summary>
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

        try
        {
            Readers.Dispose();
            Data.Dispose();
            Expiry.Dispose();
            Meta.Dispose();
            Elements.Dispose();
            IndexEntries.Dispose();
            _environment.Dispose();
        }
        finally
        {
            _lock.Dispose();
        }
    }

    /// <summary>A long key's record must carry that key: a different one (a SHA-256 collision) reads as absent.</summary>
    private static bool IsRecordOf(ReadOnlySpan<byte> key, ReadOnlySpan<byte> encoded) =>
        !LmdbKeys.IsLong(key.Length) || LmdbRecordCodec.KeyOf(encoded).SequenceEqual(key);

    private static FileStream LockDirectory(string path)
    {
        string lockPath = System.IO.Path.Combine(path, LockFileName);
        try
        {
            // FileShare.None takes an exclusive advisory lock (flock on Unix), held until the stream is closed.
            return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException exception)
        {
            throw new IOException($"The LMDB database '{path}' is already open (locked through '{lockPath}').", exception);
        }
    }

    /// <summary>Opens (creating) the named databases, checks the format version and reads the counters.</summary>
    private static (LmdbStore Store, long KeyCount, long KeysWithExpiryCount) OpenDatabases(LightningEnvironment environment, FileStream lockFile, string path, long mapSizeBytes)
    {
        var create = new DatabaseConfiguration { Flags = DatabaseOpenFlags.Create };
        using LightningTransaction transaction = environment.BeginTransaction();
        LightningDatabase data = transaction.OpenDatabase(LmdbKeys.DataDatabase, create);
        LightningDatabase expiry = transaction.OpenDatabase(LmdbKeys.ExpiryDatabase, create);
        LightningDatabase meta = transaction.OpenDatabase(LmdbKeys.MetaDatabase, create);
        LightningDatabase elements = transaction.OpenDatabase(LmdbKeys.ElementDatabase, create);
        LightningDatabase indexEntries = transaction.OpenDatabase(LmdbKeys.IndexDatabase, create);
        var store = new LmdbStore(environment, lockFile, path, mapSizeBytes, data, expiry, meta, elements, indexEntries);
        try
        {
            (long keys, long withExpiry) = store.ReadMetadata(transaction);

            // Committed even when nothing was written: the database handles opened in it stay valid only then.
            store.Commit(transaction);
            return (store, keys, withExpiry);
        }
        catch
        {
            // The caller closes the environment; the wrappers must be disposed first, or their finalizers would run later.
            data.Dispose();
            expiry.Dispose();
            meta.Dispose();
            elements.Dispose();
            indexEntries.Dispose();
            throw;
        }
    }

    /// <summary>Checks the format version (stamping a new database) and returns the persisted counters.</summary>
    private (long KeyCount, long KeysWithExpiryCount) ReadMetadata(LightningTransaction transaction)
    {
        (long, long) counters;
        if (!TryGet(transaction, Meta, LmdbMetadata.FormatVersionKey, out ReadOnlySpan<byte> version))
        {
            Put(transaction, Meta, LmdbMetadata.FormatVersionKey, LmdbMetadata.EncodeFormatVersion(LmdbMetadata.CurrentFormatVersion));
            PutCounters(transaction, 0, 0);
            counters = (0, 0);
        }
        else
        {
            int stored = LmdbMetadata.DecodeFormatVersion(version);
            if (stored > LmdbMetadata.CurrentFormatVersion)
            {
                throw new NotSupportedException(
                    $"The LMDB database '{Path}' has format version {stored}, but this version of Dynamite reads format " +
                    $"versions up to {LmdbMetadata.CurrentFormatVersion}. It was written by a newer Dynamite: run that " +
                    "version, or point the data directory elsewhere.");
            }

            counters = TryGet(transaction, Meta, LmdbMetadata.CountersKey, out ReadOnlySpan<byte> encoded)
                ? LmdbMetadata.DecodeCounters(encoded)
                : (0, 0);
            if (stored < LmdbMetadata.CurrentFormatVersion)
            {
                // An older format has only fewer databases, which opening just created: restamp it.
                Put(transaction, Meta, LmdbMetadata.FormatVersionKey, LmdbMetadata.EncodeFormatVersion(LmdbMetadata.CurrentFormatVersion));
            }
        }

        return counters;
    }
}
