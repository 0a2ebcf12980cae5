using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands.SortedSetOperations;

/// <summary>A write of one sorted set (<see cref="TypedDeltaOperation"/>), with the set's members in order at hand.</summary>
internal abstract class SortedSetChange(byte[] key, NodeId actor) : TypedDeltaOperation(key, DataType.SortedSet, actor)
{
    /// <summary>Every member the replica holds, by score then member; none when the command creates the key.</summary>
    protected List<ScoredMember> ReadSorted(KeyDeltaBuilder builder, IStorageTransaction transaction)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var sorted = new List<ScoredMember>();
        if (!builder.Creates)
        {
            SortedSetRead.ReadSorted(transaction, Key, sorted);
        }

        return sorted;
    }
}
