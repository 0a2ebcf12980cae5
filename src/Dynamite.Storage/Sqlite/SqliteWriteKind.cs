namespace Dynamite.Storage.Sqlite;

/// <summary>What a <see cref="SqliteWriteRequest"/> asks the writer thread to do. Everything that changes the
/// database goes through the one queue, so sweeps, clears and flushes are ordered with the writes around them.</summary>
internal enum SqliteWriteKind
{
    /// <summary>Run an <see cref="Dynamite.Core.KeyValue.IStorageOperation"/> as part of a group commit.</summary>
    Operation = 0,

    /// <summary>Delete up to a number of expired keys; the result is how many.</summary>
    RemoveExpired = 1,

    /// <summary>Delete every key.</summary>
    Clear = 2,

    /// <summary>Make everything queued before it durable: commit, then checkpoint the WAL with syncs.</summary>
    Flush = 3,
}
