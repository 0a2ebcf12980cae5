using Microsoft.Data.Sqlite;

namespace Dynamite.Storage.Sqlite;

/// <summary>WAL checkpoints: the full flush a shutdown or FLUSH needs, and the passive ones <see cref="SqliteCheckpointer"/> and the writer run.</summary>
internal static class SqliteCheckpoints
{
    /// <summary>
    /// Copies the WAL into the database file with syncs and truncates it, so every commit so far is on disk.
    /// Under <see cref="FsyncPolicy.Never"/> (synchronous=OFF) checkpoints never sync, and a checkpoint syncs the
    /// database file only when it copies a page; so this one runs at NORMAL after a one-page commit, which also
    /// syncs the pages earlier unsynced checkpoints left in the file.
    /// </summary>
    public static void FlushToDisk(SqliteConnection connection, FsyncPolicy fsyncPolicy)
    {
        if (fsyncPolicy != FsyncPolicy.Never)
        {
            Run(connection, "TRUNCATE", requireComplete: true);
            return;
        }

        SqliteSchema.Execute(connection, "PRAGMA synchronous = NORMAL;");
        try
        {
            SqliteSchema.Execute(connection, $"PRAGMA user_version = {SqliteSchema.CurrentVersion};");
            Run(connection, "TRUNCATE", requireComplete: true);
        }
        finally
        {
            SqliteSchema.Execute(connection, "PRAGMA synchronous = OFF;");
        }
    }

    /// <summary>Runs a WAL checkpoint; returns whether it copied the whole log (or throws if it had to).</summary>
    public static bool Run(SqliteConnection connection, string mode, bool requireComplete)
    {
        (bool complete, _) = Checkpoint(connection, mode);
        if (!complete && requireComplete)
        {
            throw new TimeoutException(
                $"The WAL checkpoint ({mode}) could not finish within {SqliteSchema.BusyTimeoutMs} ms because readers kept " +
                "using the log; committed writes are in the WAL file but may not be synced to disk yet.");
        }

        return complete;
    }

    /// <summary>A passive checkpoint (copies what it can without waiting for anyone): whether it copied the whole
    /// log, and how many frames the log holds.</summary>
    public static (bool Complete, long LogFrames) RunPassive(SqliteConnection connection) => Checkpoint(connection, "PASSIVE");

    private static (bool Complete, long LogFrames) Checkpoint(SqliteConnection connection, string mode)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = $"PRAGMA wal_checkpoint({mode});";
        using SqliteDataReader reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return (true, 0);
        }

        bool busy = reader.GetInt64(0) != 0;
        long logFrames = reader.GetInt64(1);
        return (!busy && reader.GetInt64(2) >= logFrames, logFrames);
    }
}
