using System.Diagnostics.CodeAnalysis;
using Dynamite.Core.KeyValue;
using Microsoft.Data.Sqlite;

namespace Dynamite.Storage.Sqlite;

/// <summary>
/// One read-only connection with its statements prepared once, so a pooled read costs a bind and a step,
/// never a parse. Each call is its own short read transaction (the statement is reset before returning), so a
/// reader never holds the WAL back from a checkpoint. Not thread-safe: one caller at a time, via <see cref="SqliteReadPool"/>.
/// </summary>
internal sealed class SqliteReadConnection : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SqliteStatement _selectRecord;
    private readonly SqliteStatement _selectScan;
    private readonly SqliteStatement _selectPartitionChunk;
    private readonly SqliteStatement _selectElement;
    private readonly SqliteStatement _selectElements;
    private readonly SqliteStatement _selectElementsAfter;
    private readonly SqliteIndexReads _index;

    private SqliteReadConnection(SqliteConnection connection)
    {
        _connection = connection;
        var prepared = new List<SqliteStatement>(10);
        try
        {
            _selectRecord = Prepare(prepared, SqliteSchema.SelectRecord);
            _selectScan = Prepare(prepared, SqliteSchema.SelectScan);
            _selectPartitionChunk = Prepare(prepared, SqliteSchema.SelectPartitionChunk);
            _selectElement = Prepare(prepared, SqliteSchema.SelectElement);
            _selectElements = Prepare(prepared, SqliteSchema.SelectElements);
            _selectElementsAfter = Prepare(prepared, SqliteSchema.SelectElementsAfter);
            _index = new SqliteIndexReads(sql => Prepare(prepared, sql));
        }
        catch
        {
            foreach (SqliteStatement statement in prepared)
            {
                statement.Dispose();
            }

            throw;
        }
    }

    public static SqliteReadConnection Open(string databasePath)
    {
        SqliteConnection connection = SqliteSchema.OpenReadConnection(databasePath);
        try
        {
            return new SqliteReadConnection(connection);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public bool TryRead(ReadOnlySpan<byte> key, long nowUnixMs, out StoredRecord record) =>
        SqliteSchema.TryReadLive(_selectRecord, key, nowUnixMs, out record);

    public bool TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value) =>
        SqliteSchema.TryReadElement(_selectElement, key, element, out value);

    public bool ReadElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit, List<StoredElement> into) =>
        SqliteSchema.ReadElements(_selectElements, _selectElementsAfter, key, afterElement, limit, into);

    public bool ReadIndex(ReadOnlySpan<byte> key, byte[]? bound, int limit, bool backward, List<StoredElement> into) =>
        backward ? _index.ReadElementsBackward(key, bound, limit, into) : _index.ReadElements(key, bound, limit, into);

    /// <summary>One scan page with the <see cref="IStorageEngine.Scan"/> contract: after <paramref name="limit"/> keys,
    /// keys that share the last key's hash are still taken, and the page ends before the first different hash.</summary>
    public ScanPage Scan(ulong fromHash, int limit, long nowUnixMs)
    {
        var keys = new List<byte[]>(Math.Min(limit, 1024));
        try
        {
            _selectScan.BindInt64(1, SqliteSchema.EncodeHash(fromHash));
            _selectScan.BindInt64(2, nowUnixMs);
            long lastHash = 0;
            while (_selectScan.Step())
            {
                long hash = _selectScan.GetInt64(0);
                if (keys.Count >= limit && hash != lastHash)
                {
                    return new ScanPage(keys, SqliteSchema.DecodeHash(hash));
                }

                keys.Add(_selectScan.GetBlob(1).ToArray());
                lastHash = hash;
            }

            return new ScanPage(keys, null);
        }
        finally
        {
            _selectScan.Reset();
        }
    }

    /// <summary>
    /// Appends up to <paramref name="maxRows"/> live entries with (hash, key) &gt;= (<paramref name="fromHash"/>,
    /// <paramref name="fromKey"/>) and hash &lt;= <paramref name="lastHash"/> (stored encoding) to <paramref name="into"/>,
    /// and returns the stored hash of the last one appended (undefined when none was).
    /// </summary>
    public long ReadPartitionChunk(long fromHash, ReadOnlySpan<byte> fromKey, long lastHash, long nowUnixMs, int maxRows, List<StoredEntry> into)
    {
        long lastReadHash = fromHash;
        try
        {
            _selectPartitionChunk.BindInt64(1, fromHash);
            _selectPartitionChunk.BindBlob(2, fromKey);
            _selectPartitionChunk.BindInt64(3, lastHash);
            _selectPartitionChunk.BindInt64(4, nowUnixMs);
            _selectPartitionChunk.BindInt64(5, maxRows);
            while (_selectPartitionChunk.Step())
            {
                lastReadHash = _selectPartitionChunk.GetInt64(0);
                byte[] key = _selectPartitionChunk.GetBlob(1).ToArray();
                long expiresAt = _selectPartitionChunk.GetInt64(2);
                byte[] value = _selectPartitionChunk.GetBlob(3).ToArray();
                into.Add(new StoredEntry(key, new StoredRecord(value, expiresAt, SqliteSchema.ReadKind(_selectPartitionChunk, 4))));
            }

            return lastReadHash;
        }
        finally
        {
            _selectPartitionChunk.Reset();
        }
    }

    public void Dispose()
    {
        // Statements first: a connection closed with live statements stays open as a zombie until they are finalized.
        _selectRecord.Dispose();
        _selectScan.Dispose();
        _selectPartitionChunk.Dispose();
        _selectElement.Dispose();
        _selectElements.Dispose();
        _selectElementsAfter.Dispose();
        _index.Dispose();
        _connection.Dispose();
    }

    private SqliteStatement Prepare(List<SqliteStatement> prepared, string sql)
    {
        var statement = new SqliteStatement(_connection, sql);
        prepared.Add(statement);
        return statement;
    }
}
