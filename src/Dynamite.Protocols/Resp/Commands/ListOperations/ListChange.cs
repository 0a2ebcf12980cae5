using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands.ListOperations;

/// <summary>
/// A write of one list (<see cref="TypedDeltaOperation"/>): an item is an element named by its position, whose register
/// holds its value. A push makes a new position next to its neighbours' (<see cref="ListPosition"/>), so concurrent
/// pushes through several nodes all stay, in one order on every replica; a pop or removal is an observed remove, and
/// LSET a register write (the later of two concurrent LSETs of one item wins).
/// </summary>
internal abstract class ListChange(byte[] key, NodeId actor) : TypedDeltaOperation(key, DataType.List, actor)
{
    /// <summary>
    /// True when the list reads as absent: the command creates it, or (on a cluster) only the header a removal of its
    /// last item left stands there.
    /// </summary>
    protected static bool IsAbsent(KeyDeltaBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Creates || builder.StoredElementCount == 0;
    }

    /// <summary>Every item the replica holds, in order; none when the command creates the key.</summary>
    protected List<ListItem> ReadItems(KeyDeltaBuilder builder, IStorageTransaction transaction)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var items = new List<ListItem>();
        if (!builder.Creates)
        {
            ListItem.ReadAll(transaction, Key, items);
        }

        return items;
    }

    /// <summary>Adds <paramref name="value"/> between two positions (empty: the list's start or end); returns its position.</summary>
    protected byte[] Insert(KeyDeltaBuilder builder, ReadOnlySpan<byte> lower, ReadOnlySpan<byte> upper, byte[] value)
    {
        ArgumentNullException.ThrowIfNull(builder);
        // The position carries the dot the write is about to take, so no node ever makes the same position twice.
        byte[] position = ListPosition.Between(lower, upper, ListPosition.SiteOf(Actor), (ulong)builder.Context.NextDot(Actor).Counter);
        builder.Assign(position, value);
        return position;
    }
}
