namespace Dynamite.Cluster.Replication;

/// <summary>Tells several listeners, in order, of every replica write (the Merkle trees first).</summary>
public sealed class ReplicaWriteListeners(params IReplicaWriteListener[] listeners) : IReplicaWriteListener
{
    public void OnWritten(byte[] key, byte[]? previousEncoded, byte[] writtenEncoded)
    {
        foreach (IReplicaWriteListener listener in listeners)
        {
            listener.OnWritten(key, previousEncoded, writtenEncoded);
        }
    }

    public void OnTypedKeyWritten(byte[] key, byte[]? previousRecord, byte[]? writtenRecord)
    {
        foreach (IReplicaWriteListener listener in listeners)
        {
            listener.OnTypedKeyWritten(key, previousRecord, writtenRecord);
        }
    }

    public void OnRemoved(byte[] key, byte[] previousEncoded)
    {
        foreach (IReplicaWriteListener listener in listeners)
        {
            listener.OnRemoved(key, previousEncoded);
        }
    }
}
