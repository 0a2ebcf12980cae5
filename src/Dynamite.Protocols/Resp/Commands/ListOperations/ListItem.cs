using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands.ListOperations;

/// <summary>One item of a list: its position (the element's name, <see cref="ListPosition"/>) and its value.</summary>
internal readonly record struct ListItem(byte[] Position, byte[] Value)
{
    /// <summary>Every item of <paramref name="key"/> in list order (the elements' name order), into <paramref name="items"/>.</summary>
    public static void ReadAll(IStorageTransaction transaction, byte[] key, List<ListItem> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        foreach (StoredElement element in TypedKey.AllElements(transaction, key))
        {
            items.Add(new ListItem(element.Name, ElementValue.Render(ElementState.Decode(element.Value))));
        }
    }

    /// <summary>The first <paramref name="limit"/> items in list order (one page read; O(limit)).</summary>
    public static void ReadFirst(IStorageTransaction transaction, byte[] key, int limit, List<ListItem> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        byte[]? after = null;
        while (items.Count < limit)
        {
            ElementPage page = transaction.ScanElements(key, after, Math.Min(limit - items.Count, 1024));
            foreach (StoredElement element in page.Elements)
            {
                items.Add(new ListItem(element.Name, ElementValue.Render(ElementState.Decode(element.Value))));
            }

            if (page.ResumeAfter is not { } next)
            {
                return;
            }

            after = next;
        }
    }

    /// <summary>
    /// The last <paramref name="limit"/> items, in list order, into <paramref name="items"/> (a backward page read from the
    /// list's end: O(limit) on an engine's own transaction).
    /// </summary>
    public static void ReadLast(IStorageTransaction transaction, byte[] key, int limit, List<ListItem> items)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ArgumentNullException.ThrowIfNull(items);
        int start = items.Count;
        byte[]? before = null;
        while (items.Count - start < limit)
        {
            ElementPage page = transaction.ScanElementsBackward(key, before, Math.Min(limit - (items.Count - start), 1024));
            foreach (StoredElement element in page.Elements)
            {
                items.Add(new ListItem(element.Name, ElementValue.Render(ElementState.Decode(element.Value))));
            }

            if (!page.HasMore || page.Elements.Count == 0)
            {
                break;
            }

            before = page.Elements[^1].Name;
        }

        items.Reverse(start, items.Count - start);
    }

    /// <summary>
    /// A Redis list index (negative counts from the end) as a position in a list of <paramref name="length"/>; -1 when
    /// it is outside.
    /// </summary>
    public static int IndexOf(long index, int length)
    {
        long resolved = index < 0 ? length + index : index;
        return resolved >= 0 && resolved < length ? (int)resolved : -1;
    }
}
