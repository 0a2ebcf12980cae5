using Microsoft.Data.Sqlite;

namespace Dynamite.Storage.Sqlite;

/// <summary>WAL checkpoints on the writer's connection: the full flush a shutdown or FLUSH needs, and the passive one the batch policy runs each interval.</summary>
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
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = $"PRAGMA wal_checkpoint({mode});";
        using SqliteDataReader reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return true;
        }

        bool busy = reader.GetInt64(0) != 0;
        bool complete = !busy && reader.GetInt64(2) >= reader.GetInt64(1);
        if (!complete && requireComplete)
        {
            throw new TimeoutException(
                $"The WAL checkpoint ({mode}) could not finish within {SqliteSchema.BusyTimeoutMs} ms because readers kept " +
                "using the log; committed writes are in the WAL file but may not be synced to disk yet.");
        }

        return complete;
    }
}
