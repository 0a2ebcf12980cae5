using Dynamite.Core.KeyValue;

namespace Dynamite.Cluster.Replication;

/// <summary>
/// Several replica operations (merges of objects, joins of deltas) run in order as one storage operation, so the
/// engine applies them all or none (<see cref="ReplicaStore.ApplyBatchAsync"/>). Each part resets its own results when
/// it runs, so a retried group commit runs them all again from the start.
/// </summary>
public sealed class ReplicaBatchOperation(IReadOnlyList<IStorageOperation> parts) : IStorageOperation
{
    public int TouchedKeyCount
    {
        get
        {
            int count = 0;
            foreach (IStorageOperation part in parts)
            {
                count += part.TouchedKeyCount;
            }

            return count;
        }
    }

    public byte[] GetTouchedKey(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        foreach (IStorageOperation part in parts)
        {
            if (index < part.TouchedKeyCount)
            {
                return part.GetTouchedKey(index);
            }

            index -= part.TouchedKeyCount;
        }

        throw new ArgumentOutOfRangeException(nameof(index));
    }

    public void Execute(IStorageTransaction transaction)
    {
        foreach (IStorageOperation part in parts)
        {
            part.Execute(transaction);
        }
    }
}
