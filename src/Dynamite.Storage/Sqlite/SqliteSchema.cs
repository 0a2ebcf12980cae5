using System.Diagnostics.CodeAnalysis;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;
using Microsoft.Data.Sqlite;

namespace Dynamite.Storage.Sqlite;

/// <summary>
/// Everything the SQLite engine says to SQLite in one place: the file layout, the schema and its version,
/// the connection settings and the statements, so that a schema change is reviewed against every query that
/// depends on it.
/// <para>
/// One table, <c>kv</c>, clustered (WITHOUT ROWID) on <c>(hash, key)</c>: a point read is one B-tree seek, and a
/// partition or a scan page is one range read in hash order. The 64-bit hash is stored as a signed INTEGER that
/// keeps unsigned order (see <see cref="EncodeHash"/>). <c>expires_at</c> comes before <c>value</c> so that reading
/// the expiry (scans, counter bookkeeping) never follows a large value into its overflow pages. A partial index
/// holds only the keys with an expiry, which is what the active expiry sweep walks.
/// </para>
/// <para>
/// A second table, <c>elements</c>, clustered on <c>(hash, key, element)</c>, holds the elements of typed keys: one
/// key's elements are one range of the primary key in element-name order (SQLite compares BLOBs bytewise, a prefix
/// first), so a point read of an element and a page of a key's elements are one B-tree seek each. It is written in
/// the same transaction as <c>kv</c>.
/// </para>
/// <para>
/// A third, <c>index_entries</c>, clustered on <c>(hash, key, entry)</c>, holds the keys' index entries
/// (<c>IStorageTransaction.KeepsIndex</c>) in the same way, without values.
/// </para>
/// <para>
/// Versions: 1, the <c>kv</c> table; 2 adds <c>elements</c> and <c>kv.kind</c> (<see cref="RecordKind"/>: a plain
/// value or a typed key's header). A version 1 database gains the empty table and the column (every row a plain value)
/// on open, and a build that knows only version 1, which would delete keys without their elements, refuses it. 3 adds
/// <c>index_entries</c>, empty on open (sorted sets stored before have no entries: not migrated, no user holds one yet).
/// </para>
/// </summary>
internal static class SqliteSchema
{
    /// <summary>The schema version this build writes and reads (PRAGMA user_version).</summary>
    public const int CurrentVersion = 3;

    public const string FileName = "dynamite.db";

    /// <summary>How long a connection retries a locked database (a checkpoint waiting for readers) before failing.</summary>
    public const int BusyTimeoutMs = 5000;

    public const string Begin = "BEGIN IMMEDIATE";

    public const string Commit = "COMMIT";

    public const string Rollback = "ROLLBACK";

    /// <summary>A point read: ?1 hash, ?2 key; columns expires_at, value, kind.</summary>
    public const string SelectRecord = "SELECT expires_at, value, kind FROM kv WHERE hash = ?1 AND key = ?2";

    /// <summary>The writer's bookkeeping read before an upsert: ?1 hash, ?2 key; column expires_at.</summary>
    public const string SelectExpiry = "SELECT expires_at FROM kv WHERE hash = ?1 AND key = ?2";

    /// <summary>?1 hash, ?2 key, ?3 expires_at, ?4 value, ?5 kind.</summary>
    public const string Upsert =
        "INSERT INTO kv (hash, key, expires_at, value, kind) VALUES (?1, ?2, ?3, ?4, ?5) " +
        "ON CONFLICT (hash, key) DO UPDATE SET expires_at = excluded.expires_at, value = excluded.value, kind = excluded.kind";

    /// <summary>?1 hash, ?2 key; returns the deleted row's expires_at, so the writer learns in one statement
    /// whether the key existed and whether it carried an expiry.</summary>
    public const string DeleteReturningExpiry = "DELETE FROM kv WHERE hash = ?1 AND key = ?2 RETURNING expires_at";

    /// <summary>The expiry sweep: ?1 now, ?2 most rows; walks the partial expiry index, earliest expiry first. The
    /// order is total (the index holds the primary key after the expiry), so the sweep's two statements, this one and
    /// <see cref="DeleteExpiredElements"/> before it, pick the same keys.</summary>
    public const string DeleteExpired =
        "DELETE FROM kv WHERE (hash, key) IN " +
        "(SELECT hash, key FROM kv WHERE expires_at <> 0 AND expires_at <= ?1 ORDER BY expires_at, hash, key LIMIT ?2) RETURNING key";

    /// <summary>The elements of the keys <see cref="DeleteExpired"/> removes (run first, in the same transaction): ?1 now, ?2 most keys.</summary>
    public const string DeleteExpiredElements =
        "DELETE FROM elements WHERE (hash, key) IN " +
        "(SELECT hash, key FROM kv WHERE expires_at <> 0 AND expires_at <= ?1 ORDER BY expires_at, hash, key LIMIT ?2)";

    /// <summary>The index entries of the keys <see cref="DeleteExpired"/> removes, as <see cref="DeleteExpiredElements"/>.</summary>
    public const string DeleteExpiredIndexEntries =
        "DELETE FROM index_entries WHERE (hash, key) IN " +
        "(SELECT hash, key FROM kv WHERE expires_at <> 0 AND expires_at <= ?1 ORDER BY expires_at, hash, key LIMIT ?2)";

    public const string DeleteAll = "DELETE FROM kv";

    public const string DeleteAllIndexEntries = "DELETE FROM index_entries";

    /// <summary>A key's first index entries: ?1 hash, ?2 key, ?3 most rows; column entry, in order.</summary>
    public const string SelectIndexFirst = "SELECT entry FROM index_entries WHERE hash = ?1 AND key = ?2 ORDER BY entry LIMIT ?3";

    /// <summary>A key's index entries after one: ?1 hash, ?2 key, ?3 the entry to start after, ?4 most rows.</summary>
    public const string SelectIndexAfter =
        "SELECT entry FROM index_entries WHERE hash = ?1 AND key = ?2 AND entry > ?3 ORDER BY entry LIMIT ?4";

    /// <summary>A key's last index entries, last first: ?1 hash, ?2 key, ?3 most rows.</summary>
    public const string SelectIndexLast = "SELECT entry FROM index_entries WHERE hash = ?1 AND key = ?2 ORDER BY entry DESC LIMIT ?3";

    /// <summary>A key's index entries before one, last first: ?1 hash, ?2 key, ?3 the entry to stop before, ?4 most rows.</summary>
    public const string SelectIndexBefore =
        "SELECT entry FROM index_entries WHERE hash = ?1 AND key = ?2 AND entry < ?3 ORDER BY entry DESC LIMIT ?4";

    /// <summary>?1 hash, ?2 key, ?3 entry.</summary>
    public const string InsertIndexEntry = "INSERT OR IGNORE INTO index_entries (hash, key, entry) VALUES (?1, ?2, ?3)";

    /// <summary>?1 hash, ?2 key, ?3 entry.</summary>
    public const string DeleteIndexEntry = "DELETE FROM index_entries WHERE hash = ?1 AND key = ?2 AND entry = ?3";

    /// <summary>Every index entry of a key: ?1 hash, ?2 key.</summary>
    public const string DeleteKeyIndexEntries = "DELETE FROM index_entries WHERE hash = ?1 AND key = ?2";

    public const string DeleteAllElements = "DELETE FROM elements";

    /// <summary>An element's point read: ?1 hash, ?2 key, ?3 element; column value.</summary>
    public const string SelectElement = "SELECT value FROM elements WHERE hash = ?1 AND key = ?2 AND element = ?3";

    /// <summary>A key's first elements: ?1 hash, ?2 key, ?3 most rows; columns element, value in element order.</summary>
    public const string SelectElements =
        "SELECT element, value FROM elements WHERE hash = ?1 AND key = ?2 ORDER BY element LIMIT ?3";

    /// <summary>A key's elements after one: ?1 hash, ?2 key, ?3 the element to start after, ?4 most rows; columns element, value in element order.</summary>
    public const string SelectElementsAfter =
        "SELECT element, value FROM elements WHERE hash = ?1 AND key = ?2 AND element > ?3 ORDER BY element LIMIT ?4";

    /// <summary>?1 hash, ?2 key, ?3 element, ?4 value.</summary>
    public const string UpsertElement =
        "INSERT INTO elements (hash, key, element, value) VALUES (?1, ?2, ?3, ?4) " +
        "ON CONFLICT (hash, key, element) DO UPDATE SET value = excluded.value";

    /// <summary>?1 hash, ?2 key, ?3 element.</summary>
    public const string DeleteElement = "DELETE FROM elements WHERE hash = ?1 AND key = ?2 AND element = ?3";

    /// <summary>Every element of a key: ?1 hash, ?2 key. One seek into the primary key when the key has none.</summary>
    public const string DeleteKeyElements = "DELETE FROM elements WHERE hash = ?1 AND key = ?2";

    /// <summary>A scan page: ?1 first hash, ?2 now; columns hash, key of live keys in (hash, key) order.
    /// No LIMIT: the caller steps until the page is full and the hash changes, then resets.</summary>
    public const string SelectScan =
        "SELECT hash, key FROM kv WHERE hash >= ?1 AND (expires_at = 0 OR expires_at > ?2) ORDER BY hash, key";

    /// <summary>A chunk of a partition: ?1 hash and ?2 key to start at (inclusive), ?3 last hash of the partition,
    /// ?4 now, ?5 most rows; columns hash, key, expires_at, value, kind of live keys in (hash, key) order.</summary>
    public const string SelectPartitionChunk =
        "SELECT hash, key, expires_at, value, kind FROM kv " +
        "WHERE (hash, key) >= (?1, ?2) AND hash <= ?3 AND (expires_at = 0 OR expires_at > ?4) " +
        "ORDER BY hash, key LIMIT ?5";

    /// <summary>Version 1 to 2: the record kind, every existing row a plain value.</summary>
    private const string AddKindColumn = "ALTER TABLE kv ADD COLUMN kind INTEGER NOT NULL DEFAULT 0;";

    private const string CreateSchema = """
        CREATE TABLE IF NOT EXISTS kv (
            hash INTEGER NOT NULL,
            key BLOB NOT NULL,
            expires_at INTEGER NOT NULL,
            value BLOB NOT NULL,
            kind INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (hash, key)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS kv_expiry ON kv (expires_at) WHERE expires_at <> 0;
        CREATE TABLE IF NOT EXISTS elements (
            hash INTEGER NOT NULL,
            key BLOB NOT NULL,
            element BLOB NOT NULL,
            value BLOB NOT NULL,
            PRIMARY KEY (hash, key, element)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS index_entries (
            hash INTEGER NOT NULL,
            key BLOB NOT NULL,
            entry BLOB NOT NULL,
            PRIMARY KEY (hash, key, entry)
        ) WITHOUT ROWID;
        """;

    /// <summary>Per-connection settings shared by the writer and the readers. The memory map lets every connection
    /// read the database file through the one operating-system page cache instead of each copying pages into its
    /// own cache; temporary structures (sorts) never touch the disk.</summary>
    private const string ConnectionSettings = "PRAGMA temp_store = MEMORY; PRAGMA mmap_size = 268435456;";

    private const ulong SignBit = 0x8000000000000000UL;

    /// <summary>Maps an unsigned hash to a signed INTEGER with the same order (flipping the sign bit maps
    /// 0..2^64-1 onto long.MinValue..long.MaxValue monotonically).</summary>
    public static long EncodeHash(ulong hash) => (long)(hash ^ SignBit);

    public static ulong DecodeHash(long stored) => (ulong)stored ^ SignBit;

    /// <summary>
    /// Opens the one read-write connection, refuses a database written by a newer schema, switches to WAL,
    /// applies <paramref name="fsyncPolicy"/> and creates the schema when the file is new.
    /// </summary>
    public static SqliteConnection OpenWriteConnection(string databasePath, FsyncPolicy fsyncPolicy)
    {
        SqliteConnection connection = OpenConnection(databasePath, SqliteOpenMode.ReadWriteCreate);
        try
        {
            Execute(connection, $"PRAGMA busy_timeout = {BusyTimeoutMs};");

            // Read before anything is changed, so a newer database is left exactly as it was.
            long version = Convert.ToInt64(Scalar(connection, "PRAGMA user_version;"), System.Globalization.CultureInfo.InvariantCulture);
            if (version > CurrentVersion)
            {
                throw new NotSupportedException(
                    $"The database '{databasePath}' has schema version {version}, but this version of Dynamite reads schema " +
                    $"versions up to {CurrentVersion}. It was written by a newer Dynamite: run that version, or point the " +
                    "data directory elsewhere.");
            }

            string? journalMode = Scalar(connection, "PRAGMA journal_mode = WAL;") as string;
            if (!string.Equals(journalMode, "wal", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException(
                    $"SQLite could not switch '{databasePath}' to WAL journal mode (it reports '{journalMode}'); " +
                    "the engine needs WAL so that reads never wait on the writer.");
            }

            // The writer's own page cache (32 MiB) holds the upper B-tree levels it touches on every write;
            // journal_size_limit shrinks a WAL that a burst of writes made large once it is checkpointed.
            // No automatic checkpoints: they would run inside commits, on the writer thread (SqliteCheckpointer).
            Execute(
                connection,
                $"PRAGMA synchronous = {SynchronousLevel(fsyncPolicy)}; {ConnectionSettings} " +
                "PRAGMA cache_size = -32768; PRAGMA journal_size_limit = 67108864; PRAGMA wal_autocheckpoint = 0;");

            if (version < CurrentVersion)
            {
                using SqliteTransaction transaction = connection.BeginTransaction();
                string addKind = version == 1 ? AddKindColumn : string.Empty;
                Execute(connection, addKind + CreateSchema + $"PRAGMA user_version = {CurrentVersion};", transaction);
                transaction.Commit();
            }

            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Opens a read-only connection for the read pool; WAL lets it read while the writer commits.</summary>
    /// <summary>
    /// The connection <see cref="SqliteCheckpointer"/> checkpoints through: read-write (a checkpoint writes the
    /// database file), at the writer's synchronous level so its checkpoints sync as the policy promises.
    /// Opened after the writer's connection, which creates the schema.
    /// </summary>
    public static SqliteConnection OpenCheckpointConnection(string databasePath, FsyncPolicy fsyncPolicy)
    {
        SqliteConnection connection = OpenConnection(databasePath, SqliteOpenMode.ReadWrite);
        try
        {
            Execute(connection, $"PRAGMA busy_timeout = {BusyTimeoutMs}; PRAGMA synchronous = {SynchronousLevel(fsyncPolicy)}; PRAGMA wal_autocheckpoint = 0;");
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public static SqliteConnection OpenReadConnection(string databasePath)
    {
        SqliteConnection connection = OpenConnection(databasePath, SqliteOpenMode.ReadOnly);
        try
        {
            Execute(connection, $"PRAGMA busy_timeout = {BusyTimeoutMs}; {ConnectionSettings} PRAGMA cache_size = -8192;");
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>The PRAGMA synchronous level that implements <paramref name="fsyncPolicy"/> (see <see cref="SqliteStorageEngine"/>).</summary>
    public static string SynchronousLevel(FsyncPolicy fsyncPolicy) => fsyncPolicy switch
    {
        FsyncPolicy.Always => "FULL",
        FsyncPolicy.Batch => "NORMAL",
        FsyncPolicy.Never => "OFF",
        _ => throw new ArgumentOutOfRangeException(nameof(fsyncPolicy), fsyncPolicy, "Unknown fsync policy."),
    };

    /// <summary>Counts all keys and the keys with an expiry, for the engine's in-memory counters.</summary>
    public static (long Keys, long KeysWithExpiry) CountKeys(SqliteConnection connection)
    {
        long keys = Convert.ToInt64(Scalar(connection, "SELECT COUNT(*) FROM kv;"), System.Globalization.CultureInfo.InvariantCulture);
        long withExpiry = Convert.ToInt64(Scalar(connection, "SELECT COUNT(*) FROM kv WHERE expires_at <> 0;"), System.Globalization.CultureInfo.InvariantCulture);
        return (keys, withExpiry);
    }

    /// <summary>
    /// Reads the live record of <paramref name="key"/> with a <see cref="SelectRecord"/> statement.
    /// Expired records read as absent; the only allocation is the returned value array.
    /// </summary>
    public static bool TryReadLive(SqliteStatement selectRecord, ReadOnlySpan<byte> key, long nowUnixMs, out StoredRecord record)
    {
        try
        {
            selectRecord.BindInt64(1, EncodeHash(KeyPartitioner.HashKey(key)));
            selectRecord.BindBlob(2, key);
            if (selectRecord.Step())
            {
                long expiresAt = selectRecord.GetInt64(0);
                if (expiresAt == 0 || expiresAt > nowUnixMs)
                {
                    record = new StoredRecord(selectRecord.GetBlob(1).ToArray(), expiresAt, ReadKind(selectRecord, 2));
                    return true;
                }
            }
        }
        finally
        {
            selectRecord.Reset();
        }

        record = default;
        return false;
    }

    /// <summary>Reads element <paramref name="element"/> of <paramref name="key"/> with a <see cref="SelectElement"/> statement.</summary>
    public static bool TryReadElement(SqliteStatement selectElement, ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value)
    {
        try
        {
            selectElement.BindInt64(1, EncodeHash(KeyPartitioner.HashKey(key)));
            selectElement.BindBlob(2, key);
            selectElement.BindBlob(3, element);
            value = selectElement.Step() ? selectElement.GetBlob(0).ToArray() : null;
            return value is not null;
        }
        finally
        {
            selectElement.Reset();
        }
    }

    /// <summary>
    /// Appends up to <paramref name="limit"/> elements of <paramref name="key"/> named after
    /// <paramref name="afterElement"/> (null: from the first, with <paramref name="selectElements"/>; otherwise with
    /// <paramref name="selectElementsAfter"/>) to <paramref name="into"/>, and returns whether more remain: it asks for
    /// one row more than it takes. The index entries' statements (<see cref="SelectIndexFirst"/> and the others) read the
    /// same way in either direction, with no value column (<paramref name="withValues"/> false: each value empty).
    /// </summary>
    public static bool ReadElements(
        SqliteStatement selectElements,
        SqliteStatement selectElementsAfter,
        ReadOnlySpan<byte> key,
        byte[]? afterElement,
        int limit,
        List<StoredElement> into,
        bool withValues = true)
    {
        SqliteStatement select = afterElement is null ? selectElements : selectElementsAfter;
        try
        {
            select.BindInt64(1, EncodeHash(KeyPartitioner.HashKey(key)));
            select.BindBlob(2, key);
            int limitParameter = 3;
            if (afterElement is not null)
            {
                select.BindBlob(3, afterElement);
                limitParameter = 4;
            }

            select.BindInt64(limitParameter, (long)limit + 1);
            int read = 0;
            while (select.Step())
            {
                if (read == limit)
                {
                    return true;
                }

                into.Add(new StoredElement(select.GetBlob(0).ToArray(), withValues ? select.GetBlob(1).ToArray() : []));
                read++;
            }

            return false;
        }
        finally
        {
            select.Reset();
        }
    }

    public static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        command.ExecuteNonQuery();
    }

    public static object? Scalar(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private static SqliteConnection OpenConnection(string databasePath, SqliteOpenMode mode)
    {
        // Pooling off: the engine pools its own connections, and closing must really close the file.
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = mode,
            Cache = SqliteCacheMode.Private,
            Pooling = false,
        };
        var connection = new SqliteConnection(builder.ToString());
        try
        {
            connection.Open();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>The <see cref="RecordKind"/> in <paramref name="column"/>; a value this build does not know is refused.</summary>
    public static RecordKind ReadKind(SqliteStatement statement, int column)
    {
        long kind = statement.GetInt64(column);
        return kind is (long)RecordKind.Value or (long)RecordKind.TypedHeader
            ? (RecordKind)kind
            : throw new InvalidDataException($"A SQLite record has kind {kind}; this version writes 0 and 1: the database was written by a newer Dynamite, or is damaged.");
    }
}
