namespace Dynamite.Storage.Lmdb;

/// <summary>What a <see cref="LmdbWriteRequest"/> asks the writer thread to do. Everything that changes the
/// database goes through the one queue, so sweeps, clears and flushes are ordered with the writes around them.
/// (The batch policy's periodic sync is not a request: it runs on a thread of its own, <see cref="LmdbSyncSchedule"/>.)</summary>
internal enum LmdbWriteKind
{
    /// <summary>Run an <see cref="Dynamite.Core.KeyValue.IStorageOperation"/> as part of a group commit.</summary>
    Operation = 0,

    /// <summary>Delete up to a number of expired keys; the result is how many.</summary>
    RemoveExpired = 1,

    /// <summary>Delete every key.</summary>
    Clear = 2,

    /// <summary>Make everything queued before it durable: commit, then sync the data file.</summary>
    Flush = 3,
}
