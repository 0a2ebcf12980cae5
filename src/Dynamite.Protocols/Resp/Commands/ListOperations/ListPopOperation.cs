using System.Globalization;
using System.Text;
using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands.ListOperations;

/// <summary>
/// LPOP and RPOP (with a count), and the pop of LMOVE, LMPOP and the blocking forms: removes up to
/// <paramref name="count"/> items from one end, as observed removes. On a cluster the coordinating primary chooses them
/// from its own state, so two nodes popping at once may pop the same item (at least once, as Redis Active-Active says).
/// </summary>
internal sealed class ListPopOperation(byte[] key, bool atHead, long count, NodeId actor) : ListChange(key, actor), IForwardableOperation, IKeyPopOperation<byte[]>
{
    /// <summary>The values popped, in the order popped.</summary>
    public List<byte[]> Popped { get; } = [];

    IReadOnlyList<byte[]> IKeyPopOperation<byte[]>.Popped => Popped;

    /// <summary>LMPOP, BLPOP, BRPOP and BLMPOP's pop: from the first of <paramref name="keys"/> that holds a list.</summary>
    public static MultiKeyPopSteps<ListPopOperation, byte[]> PopFirstOf(byte[][] keys, bool atHead, long count, NodeId actor) =>
        new(keys, key => new ListPopOperation(key, atHead, count, actor));

    /// <summary>True when the key held a list (even if the pop took nothing).</summary>
    public bool Existed { get; private set; }

    public IReadOnlyList<byte[]> CommandArguments() =>
        [Encoding.ASCII.GetBytes(atHead ? "LPOP" : "RPOP"), Key, Encoding.ASCII.GetBytes(count.ToString(CultureInfo.InvariantCulture))];

    protected override void Restart()
    {
        Popped.Clear();
        Existed = false;
    }

    protected override void Change(KeyDeltaBuilder builder, IStorageTransaction transaction, bool replicated)
    {
        if (IsAbsent(builder))
        {
            return;
        }

        Existed = true;
        if (count <= 0)
        {
            return;
        }

        var items = new List<ListItem>();
        if (atHead)
        {
            ListItem.ReadFirst(transaction, Key, (int)Math.Min(count, int.MaxValue), items);
        }
        else
        {
            ListItem.ReadLast(transaction, Key, (int)Math.Min(count, int.MaxValue), items);
        }

        int take = (int)Math.Min(count, items.Count);
        for (int i = 0; i < take; i++)
        {
            ListItem item = items[atHead ? i : items.Count - 1 - i];
            if (builder.Remove(item.Position))
            {
                Popped.Add(item.Value);
            }
        }
    }
}
