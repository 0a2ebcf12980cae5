using Dynamite.Storage.Metrics;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Dynamite.Storage.Sqlite;

/// <summary>
/// The SQLite part of the group-commit writer (<see cref="GroupCommitWriter"/>), with the one read-write connection:
/// a group is one transaction (<c>BEGIN IMMEDIATE</c>) in which the operations read, and into which the surviving
/// changes are written (<see cref="SqliteChangeWriter"/>) before it commits once. Checkpoints never run here but on
/// the <see cref="SqliteCheckpointer"/>'s thread; between two rounds the writer only finishes one when the WAL has grown
/// past its limit, so that the log rewinds.
/// </summary>
internal sealed class SqliteWriter : GroupCommitWriter
{
    private readonly SqliteConnection _connection;
    private readonly FsyncPolicy _fsyncPolicy;
    private readonly SqliteCheckpointer _checkpointer;

    // Writer thread only.
    private readonly List<SqliteStatement> _statements = [];
    private readonly SqliteStatement _begin;
    private readonly SqliteStatement _commit;
    private readonly SqliteStatement _rollback;
    private readonly SqliteChangeWriter _changes;
    private readonly SqliteStatement _deleteExpired;
    private readonly SqliteStatement _deleteExpiredElements;
    private readonly SqliteStatement _deleteAll;
    private readonly SqliteStatement _deleteAllElements;
    private readonly SqliteStatement _deleteExpiredIndexEntries;
    private readonly SqliteStatement _deleteAllIndexEntries;
    private readonly SqliteBatchTransaction _transaction;
    private bool _inTransaction;

    public SqliteWriter(SqliteConnection connection, string databasePath, FsyncPolicy fsyncPolicy, long keyCount, long keysWithExpiryCount, long recordCacheBytes, EngineMetrics? metrics = null, TimeProvider? clock = null)
        : base("SQLite", nameof(SqliteStorageEngine), keyCount, keysWithExpiryCount, metrics, recordCacheBytes, wakeWriterInline: true)
    {
        _connection = connection;
        _fsyncPolicy = fsyncPolicy;
        try
        {
            _begin = Prepare(SqliteSchema.Begin);
            _commit = Prepare(SqliteSchema.Commit);
            _rollback = Prepare(SqliteSchema.Rollback);
            var indexEntries = new SqliteIndexEntries(Prepare);
            _changes = new SqliteChangeWriter(
                indexEntries,
                Prepare(SqliteSchema.SelectExpiry),
                Prepare(SqliteSchema.Upsert),
                Prepare(SqliteSchema.DeleteReturningExpiry),
                Prepare(SqliteSchema.UpsertElement),
                Prepare(SqliteSchema.DeleteElement),
                Prepare(SqliteSchema.DeleteKeyElements));
            _deleteExpired = Prepare(SqliteSchema.DeleteExpired);
            _deleteExpiredElements = Prepare(SqliteSchema.DeleteExpiredElements);
            _deleteAll = Prepare(SqliteSchema.DeleteAll);
            _deleteAllElements = Prepare(SqliteSchema.DeleteAllElements);
            _deleteExpiredIndexEntries = Prepare(SqliteSchema.DeleteExpiredIndexEntries);
            _deleteAllIndexEntries = Prepare(SqliteSchema.DeleteAllIndexEntries);
            _transaction = new SqliteBatchTransaction(
                Cache,
                indexEntries,
                Prepare(SqliteSchema.SelectRecord),
                Prepare(SqliteSchema.SelectElement),
                Prepare(SqliteSchema.SelectElements),
                Prepare(SqliteSchema.SelectElementsAfter));
            _checkpointer = new SqliteCheckpointer(databasePath, fsyncPolicy, clock ?? TimeProvider.System);
        }
        catch
        {
            DisposeStatements();
            throw;
        }

        Start();
    }

    protected override BatchTransaction Transaction => _transaction;

    protected override void BeginGroup()
    {
        _begin.Execute();
        _inTransaction = true;
    }

    protected override (long KeyDelta, long ExpiryDelta) WriteGroup()
    {
        (long keyDelta, long expiryDelta) = _changes.Apply(_transaction);
        _commit.Execute();
        _inTransaction = false;
        return (keyDelta, expiryDelta);
    }

    protected override void EndGroup()
    {
        if (_inTransaction)
        {
            RollbackQuietly();
        }
    }

    /// <summary>The expired keys' elements and index entries, then the keys, in one transaction: a failure leaves nothing half-deleted.</summary>
    protected override int RemoveExpired(long nowUnixMs, int maxKeys, List<byte[]>? removedKeys)
    {
        int removed = 0;
        _begin.Execute();
        try
        {
            _deleteExpiredElements.BindInt64(1, nowUnixMs);
            _deleteExpiredElements.BindInt64(2, maxKeys);
            _deleteExpiredElements.Execute();
            _deleteExpiredIndexEntries.BindInt64(1, nowUnixMs);
            _deleteExpiredIndexEntries.BindInt64(2, maxKeys);
            _deleteExpiredIndexEntries.Execute();
            _deleteExpired.BindInt64(1, nowUnixMs);
            _deleteExpired.BindInt64(2, maxKeys);
            try
            {
                // One row per key removed (RETURNING key).
                while (_deleteExpired.Step())
                {
                    removedKeys?.Add(_deleteExpired.GetBlob(0).ToArray());
                    removed++;
                }
            }
            finally
            {
                _deleteExpired.Reset();
            }

            _commit.Execute();
        }
        catch
        {
            RollbackQuietly();
            throw;
        }

        if (removed > 0)
        {
            // Only keys with an expiry are swept, so both counters drop by the same amount.
            Publish(KeyCount - removed, KeysWithExpiryCount - removed);
        }

        return removed;
    }

    /// <summary>Every key, element and index entry, in one transaction.</summary>
    protected override void Clear()
    {
        _begin.Execute();
        try
        {
            _deleteAll.Execute();
            _deleteAllElements.Execute();
            _deleteAllIndexEntries.Execute();
            _commit.Execute();
        }
        catch
        {
            RollbackQuietly();
            throw;
        }

        Publish(0, 0);
    }

    /// <summary>Checkpoints the whole WAL into the database file with syncs, one checkpoint at a time.</summary>
    protected override void Flush() => _checkpointer.RunExclusive(() => SqliteCheckpoints.FlushToDisk(_connection, _fsyncPolicy));

    protected override void AfterRound() => _checkpointer.FinishForRewindIfWanted(_connection);

    protected override void OnCommitted() => _checkpointer.MarkWritten();

    protected override ValueTask StopBesideWorkAsync()
    {
        // First, so the writer's final checkpoint has the log to itself.
        _checkpointer.Dispose();
        return ValueTask.CompletedTask;
    }

    protected override void FinishAfterDrain() => Flush();

    /// <summary>Closes the statements and the connection.</summary>
    protected override void DisposeResources()
    {
        DisposeStatements();
        _connection.Dispose();
    }

    private void RollbackQuietly()
    {
        _inTransaction = false;

        // After some errors (I/O, disk full) SQLite has already rolled the transaction back itself.
        if (raw.sqlite3_get_autocommit(_connection.Handle) != 0)
        {
            return;
        }

        try
        {
            _rollback.Execute();
        }
        catch (SqliteException)
        {
            // The connection is unusable; the next BEGIN reports it to the operations that need it.
        }
    }

    private SqliteStatement Prepare(string sql)
    {
        var statement = new SqliteStatement(_connection, sql);
        _statements.Add(statement);
        return statement;
    }

    private void DisposeStatements()
    {
        foreach (SqliteStatement statement in _statements)
        {
            statement.Dispose();
        }

        _statements.Clear();
    }
}
