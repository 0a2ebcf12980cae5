namespace Dynamite.Storage.RocksDb;

/// <summary>What a <see cref="RocksDbWriteRequest"/> asks the writer thread to do. Everything that changes the
/// database goes through the one queue, so sweeps, clears and flushes are ordered with the writes around them.</summary>
internal enum RocksDbWriteKind
{
    /// <summary>Run an <see cref="Dynamite.Core.KeyValue.IStorageOperation"/> as part of a group commit.</summary>
    Operation = 0,

    /// <summary>Delete up to a number of expired keys; the result is how many.</summary>
    RemoveExpired = 1,

    /// <summary>Delete every key.</summary>
    Clear = 2,

    /// <summary>Make everything queued before it durable: commit, sync the WAL, flush the memtables.</summary>
    Flush = 3,

    /// <summary>The batch policy's periodic WAL sync (from a timer; nobody awaits it).</summary>
    SyncWal = 4,
}
