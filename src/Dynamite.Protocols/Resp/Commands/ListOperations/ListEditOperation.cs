using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;

namespace Dynamite.Protocols.Resp.Commands.ListOperations;

/// <summary>What a <see cref="ListEditOperation"/> does.</summary>
internal enum ListEdit
{
    /// <summary>LSET index value.</summary>
    Set,

    /// <summary>LREM count value.</summary>
    Remove,

    /// <summary>LTRIM start stop.</summary>
    Trim,

    /// <summary>LINSERT BEFORE pivot value.</summary>
    InsertBefore,

    /// <summary>LINSERT AFTER pivot value.</summary>
    InsertAfter,
}

/// <summary>
/// LSET, LREM, LTRIM and LINSERT, with redis-server's rules and replies: each reads the list in order (O(n)) and
/// changes the items it names: a register write (LSET), observed removes (LREM, LTRIM), or a new position between the
/// pivot and its neighbour (LINSERT).
/// </summary>
internal sealed class ListEditOperation(byte[] key, ListEdit edit, long number, long stop, byte[]? pivot, byte[]? value, NodeId actor) : ListChange(key, actor)
{
    /// <summary>LREM: items removed; LINSERT: the new length, -1 without the pivot, 0 without the list.</summary>
    public long Result { get; private set; }

    /// <summary>LSET's refusal (no such key, index out of range); nothing changed.</summary>
    public string? Error { get; private set; }

    protected override void Restart()
    {
        Result = 0;
        Error = null;
    }

    protected override void Change(KeyDeltaBuilder builder, IStorageTransaction transaction, bool replicated)
    {
        if (IsAbsent(builder))
        {
            Error = edit == ListEdit.Set ? RespErrors.NoSuchKey : null;
            return;
        }

        List<ListItem> items = ReadItems(builder, transaction);
        switch (edit)
        {
            case ListEdit.Set:
                int index = ListItem.IndexOf(number, items.Count);
                if (index < 0)
                {
                    Error = "ERR index out of range";
                    return;
                }

                builder.Assign(items[index].Position, value);
                break;
            case ListEdit.Remove:
                RemoveMatching(builder, items);
                break;
            case ListEdit.Trim:
                Trim(builder, items);
                break;
            default:
                InsertNextToPivot(builder, items);
                break;
        }
    }

    /// <summary>LREM: up to |count| items equal to the value, from the head (count > 0) or the tail (count &lt; 0); all of them for 0.</summary>
    private void RemoveMatching(KeyDeltaBuilder builder, List<ListItem> items)
    {
        long limit = number == 0 ? long.MaxValue : Math.Abs(number);
        for (int i = 0; i < items.Count && Result < limit; i++)
        {
            ListItem item = items[number < 0 ? items.Count - 1 - i : i];
            if (item.Value.AsSpan().SequenceEqual(value) && builder.Remove(item.Position))
            {
                Result++;
            }
        }
    }

    /// <summary>LTRIM: keeps the items from rank <c>number</c> to <c>stop</c> (Redis's clamping), removes the rest.</summary>
    private void Trim(KeyDeltaBuilder builder, List<ListItem> items)
    {
        long length = items.Count;
        long start = number < 0 ? length + number : number;
        long end = stop < 0 ? length + stop : stop;
        start = Math.Max(start, 0);
        long keepFrom = 0, keepTo = -1;
        if (start <= end && start < length)
        {
            keepFrom = start;
            keepTo = Math.Min(end, length - 1);
        }

        for (int i = 0; i < items.Count; i++)
        {
            if (i < keepFrom || i > keepTo)
            {
                builder.Remove(items[i].Position);
            }
        }
    }

    private void InsertNextToPivot(KeyDeltaBuilder builder, List<ListItem> items)
    {
        int at = items.FindIndex(item => item.Value.AsSpan().SequenceEqual(pivot));
        if (at < 0)
        {
            Result = -1;
            return;
        }

        if (edit == ListEdit.InsertBefore)
        {
            Insert(builder, at > 0 ? items[at - 1].Position : [], items[at].Position, value!);
        }
        else
        {
            Insert(builder, items[at].Position, at + 1 < items.Count ? items[at + 1].Position : [], value!);
        }

        Result = items.Count + 1;
    }
}
