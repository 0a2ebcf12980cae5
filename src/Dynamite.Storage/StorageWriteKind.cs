namespace Dynamite.Storage;

/// <summary>What a <see cref="StorageWriteRequest"/> asks the writer thread to do. Everything that changes the
/// database goes through the one queue, so sweeps, clears and flushes are ordered with the writes around them.
/// Shared by the durable engines' writers (SQLite, RocksDB, LMDB); each handles the kinds it queues.</summary>
internal enum StorageWriteKind
{
    /// <summary>Run an <see cref="Dynamite.Core.KeyValue.IStorageOperation"/> as part of a group commit.</summary>
    Operation = 0,

    /// <summary>Delete up to a number of expired keys; the result is how many.</summary>
    RemoveExpired = 1,

    /// <summary>Delete every key.</summary>
    Clear = 2,

    /// <summary>Make everything queued before it durable (SQLite: commit, checkpoint the WAL with syncs; RocksDB: sync
    /// the WAL, flush the memtables; LMDB: commit, sync the data file).</summary>
    Flush = 3,

    /// <summary>The batch policy's periodic WAL sync, from a timer, nobody awaiting it (RocksDB only: SQLite and LMDB
    /// sync on threads of their own).</summary>
    SyncWal = 4,
}
