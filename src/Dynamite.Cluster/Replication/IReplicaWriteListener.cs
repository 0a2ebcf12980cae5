namespace Dynamite.Cluster.Replication;

/// <summary>
/// Told of every change a <see cref="ReplicaStore"/> committed, with the stored bytes before and after, so a
/// derived structure (the anti-entropy Merkle trees) follows the data without reading it again.
/// Called after the engine committed, from whichever thread completed the write; implementations are thread-safe.
/// </summary>
public interface IReplicaWriteListener
{
    /// <param name="key">The key written (never mutated).</param>
    /// <param name="previousEncoded">The stored object before the write; null if the key was absent.</param>
    /// <param name="writtenEncoded">The stored object now.</param>
    void OnWritten(byte[] key, byte[]? previousEncoded, byte[] writtenEncoded);

    /// <summary>
    /// A typed key's record changed (<see cref="TypedKeyReplica"/>: a join rewrote its header, replaced a string with
    /// it, or removed it). The records are a typed header's bytes or a string's encoded object; null when absent.
    /// </summary>
    /// <param name="key">The key written (never mutated).</param>
    /// <param name="previousRecord">The record before the join; null if the key was absent.</param>
    /// <param name="writtenRecord">The record now; null if the key is gone.</param>
    void OnTypedKeyWritten(byte[] key, byte[]? previousRecord, byte[]? writtenRecord);

    /// <summary>The key was removed (a collected tombstone).</summary>
    /// <param name="key">The key removed (never mutated).</param>
    /// <param name="previousEncoded">The stored object before the removal.</param>
    void OnRemoved(byte[] key, byte[] previousEncoded);
}
