using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Dynamite.Storage.Sqlite;

/// <summary>
/// One prepared statement on one connection, driven through the native API that
/// <see cref="SqliteConnection.Handle"/> exposes. The hot paths use this instead of <see cref="SqliteCommand"/>
/// because a command can bind a key only as a <c>byte[]</c> (a copy per read of a span key) and allocates a data
/// reader per execution; here binding takes spans and reading a column returns a span, so a point read
/// allocates nothing but the value array it returns.
/// Not thread-safe: it belongs to whoever holds its connection. Callers always <see cref="Reset"/> in a
/// <c>finally</c>, because an un-reset read statement keeps its read transaction open and holds back WAL checkpoints.
/// </summary>
internal sealed class SqliteStatement : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;

    public SqliteStatement(SqliteConnection connection, string sql)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("The connection is not open.");
        int rc = raw.sqlite3_prepare_v3(_db, sql, raw.SQLITE_PREPARE_PERSISTENT, out sqlite3_stmt? statement);
        if (rc != raw.SQLITE_OK || statement is null)
        {
            statement?.Dispose();
            SqliteException.ThrowExceptionForRC(rc, _db);
            throw new InvalidOperationException($"SQLite prepared no statement for: {sql}");
        }

        _statement = statement;
    }

    /// <summary>Rows changed by the last INSERT, UPDATE or DELETE on this statement's connection.</summary>
    public int Changes => raw.sqlite3_changes(_db);

    public void BindInt64(int index, long value) => Check(raw.sqlite3_bind_int64(_statement, index, value));

    /// <summary>Binds a blob; an empty span binds a zero-length blob (a null pointer would bind SQL NULL).</summary>
    public void BindBlob(int index, ReadOnlySpan<byte> value) =>
        Check(value.IsEmpty ? raw.sqlite3_bind_zeroblob(_statement, index, 0) : raw.sqlite3_bind_blob(_statement, index, value));

    /// <summary>Advances to the next row: true on a row, false when the statement is done; throws on an error.</summary>
    public bool Step()
    {
        int rc = raw.sqlite3_step(_statement);
        if (rc == raw.SQLITE_ROW)
        {
            return true;
        }

        if (rc == raw.SQLITE_DONE)
        {
            return false;
        }

        SqliteException.ThrowExceptionForRC(rc, _db);
        return false;
    }

    /// <summary>Runs a statement that returns no rows of interest to completion.</summary>
    public void Execute()
    {
        try
        {
            while (Step())
            {
            }
        }
        finally
        {
            Reset();
        }
    }

    public long GetInt64(int column) => raw.sqlite3_column_int64(_statement, column);

    /// <summary>The blob of the current row; valid only until the next <see cref="Step"/> or <see cref="Reset"/>.</summary>
    public ReadOnlySpan<byte> GetBlob(int column) => raw.sqlite3_column_blob(_statement, column);

    /// <summary>Ends the statement's current run (and with it any read transaction it opened) and drops the bound
    /// values, so a large bound value is not kept alive until the next use.</summary>
    public void Reset()
    {
        // sqlite3_reset repeats the error of the last step, which Step has already thrown.
        _ = raw.sqlite3_reset(_statement);
        _ = raw.sqlite3_clear_bindings(_statement);
    }

    public void Dispose() => _statement.Dispose();

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(rc, _db);
        }
    }
}
