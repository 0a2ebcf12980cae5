using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;

namespace Dynamite.Simulation;

/// <summary>
/// <c>SADD key member</c> or <c>SREM key member</c> as a cluster coordinator runs it (<see cref="IKeyDeltaOperation"/>):
/// an add writes the member under a new dot (add-wins); a remove removes exactly the dots this replica has seen of it.
/// </summary>
public sealed class SimulatedSetCommand(byte[] key, byte[] member, bool add) : IKeyDeltaOperation
{
    public byte[] Key => key;

    /// <summary>An add: the member was absent here. A remove: the member was present here, so the remove observed it.</summary>
    public bool Changed { get; private set; }

    public KeyDelta? BuildDelta(IStorageTransaction transaction, NodeId actor)
    {
        Changed = false;
        KeyDeltaBuilder? set = KeyDeltaBuilder.Open(transaction, key, DataType.Set, actor);
        if (set is null)
        {
            return null;
        }

        if (add)
        {
            Changed = !set.Read(member).IsPresent;
            set.Assign(member, null);
        }
        else
        {
            Changed = set.Remove(member);
        }

        return set.Build();
    }

    public void AfterJoin(IStorageTransaction transaction)
    {
    }
}
