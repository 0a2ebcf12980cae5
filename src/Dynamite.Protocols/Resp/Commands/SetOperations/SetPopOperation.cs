using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands.SetOperations;

/// <summary>
/// SPOP on a standalone node, as one atomic operation: <paramref name="count"/> distinct random members (all of them
/// when the set has no more) are read and deleted, and the header's count lowered, or the key deleted when the set
/// empties. The pick needs the whole member list (the engine has no random access into a key's elements), as
/// HRANDFIELD does: one range scan, O(n) in the set. On a cluster node the coordinating primary picks from its own
/// state and removes what it picked as observed removes (<see cref="BuildDelta"/>): two nodes popping at once may pop
/// the same member (docs/DATA-TYPES.md, "What a cluster does not promise").
/// </summary>
internal sealed class SetPopOperation(byte[] key, long count) : ITypedKeyOperation, IKeyDeltaOperation
{
    public int TouchedKeyCount => 1;

    public byte[] Key => key;

    public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

    public bool WrongType { get; private set; }

    /// <summary>The members popped, in the random order they were picked.</summary>
    public List<byte[]> Popped { get; } = [];

    public KeyDelta? BuildDelta(IStorageTransaction transaction, Core.Membership.NodeId coordinator)
    {
        Popped.Clear();
        KeyDeltaBuilder? builder = KeyDeltaBuilder.Open(transaction, key, DataType.Set, coordinator);
        WrongType = builder is null;
        if (builder is null || builder.Creates || count == 0)
        {
            return null;
        }

        var members = new List<byte[]>((int)Math.Min(builder.StoredElementCount, 1 << 20));
        foreach (StoredElement element in TypedKey.AllElements(transaction, key))
        {
            members.Add(element.Name);
        }

        foreach (int pick in ElementIteration.RandomPicks(members.Count, count))
        {
            if (builder.Remove(members[pick]))
            {
                Popped.Add(members[pick]);
            }
        }

        return builder.Build();
    }

    public void AfterJoin(IStorageTransaction transaction)
    {
    }

    public void Execute(IStorageTransaction transaction)
    {
        Popped.Clear();
        if (!TypedKey.TryOpen(transaction, key, DataType.Set, out TypedKeyRecord? set))
        {
            WrongType = true;
            return;
        }

        if (set is null || count == 0)
        {
            return;
        }

        var members = new List<byte[]>((int)Math.Min(set.ElementCount, 1 << 20));
        foreach (StoredElement element in TypedKey.AllElements(transaction, key))
        {
            members.Add(element.Name);
        }

        foreach (int pick in ElementIteration.RandomPicks(members.Count, count))
        {
            Popped.Add(members[pick]);
        }

        if (Popped.Count == members.Count)
        {
            transaction.Delete(key);
            return;
        }

        foreach (byte[] member in Popped)
        {
            // Observed-remove, as SREM: the member's dots stay in the context.
            transaction.DeleteElement(key, member);
        }

        TypedKey.Save(transaction, key, set with { ElementCount = set.ElementCount - Popped.Count });
    }
}
