namespace Dynamite.Storage.Sqlite;

/// <summary>
/// A small stack of idle read-only connections. A read takes one, uses it synchronously and gives it back, so
/// concurrent reads run on separate connections and never wait on each other or on the writer (WAL).
/// When every pooled connection is busy a new one is opened rather than waiting; on return, connections beyond
/// the pool's size are closed, so a burst does not leave idle connections (and their caches) behind.
/// A plain lock suffices: it guards two array operations, far cheaper than the SQLite read it brackets.
/// </summary>
internal sealed class SqliteReadPool : IDisposable
{
    private readonly string _databasePath;
    private readonly Lock _lock = new();

    // Guarded by _lock.
    private readonly SqliteReadConnection[] _idle;
    private int _idleCount;
    private bool _disposed;

    public SqliteReadPool(string databasePath, int maxIdle)
    {
        _databasePath = databasePath;
        _idle = new SqliteReadConnection[maxIdle];
    }

    public SqliteReadConnection Rent()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_idleCount > 0)
            {
                SqliteReadConnection connection = _idle[--_idleCount];
                _idle[_idleCount] = null!;
                return connection;
            }
        }

        return SqliteReadConnection.Open(_databasePath);
    }

    public void Return(SqliteReadConnection connection)
    {
        lock (_lock)
        {
            if (!_disposed && _idleCount < _idle.Length)
            {
                _idle[_idleCount++] = connection;
                return;
            }
        }

        connection.Dispose();
    }

    /// <summary>Closes the idle connections; connections still rented are closed when they come back.</summary>
    public void Dispose()
    {
        SqliteReadConnection[] idle;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            idle = _idle[.._idleCount];
            Array.Clear(_idle);
            _idleCount = 0;
        }

        foreach (SqliteReadConnection connection in idle)
        {
            connection.Dispose();
        }
    }
}
