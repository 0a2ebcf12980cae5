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

    /// <summary>The key was removed (a collected tombstone).</summary>
    /// <param name="key">The key removed (never mutated).</param>
    /// <param name="previousEncoded">The stored object before the removal.</param>
    void OnRemoved(byte[] key, byte[] previousEncoded);
}
