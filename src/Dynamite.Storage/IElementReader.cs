using System.Diagnostics.CodeAnalysis;
using Dynamite.Core.KeyValue;

namespace Dynamite.Storage;

/// <summary>
/// Reads of an engine's committed element keyspace, as the engine's transaction sees it (for a durable engine's group:
/// the database before the group's changes are applied). <see cref="StagedElementChanges"/> overlays the staged
/// changes on these reads.
/// </summary>
internal interface IElementReader
{
    bool TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value);

    /// <summary>
    /// Appends up to <paramref name="limit"/> elements of <paramref name="key"/> whose names sort after
    /// <paramref name="afterElement"/> (null: from the first) to <paramref name="into"/>, in name order, and returns
    /// whether more remain after them.
    /// </summary>
    bool ReadElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit, List<StoredElement> into);

    /// <summary>
    /// Appends up to <paramref name="limit"/> elements of <paramref name="key"/> whose names sort before
    /// <paramref name="beforeElement"/> (null: from the last) to <paramref name="into"/>, last first, and returns
    /// whether more remain before them. This default walks forwards and keeps the last ones, O(n) in the key's
    /// elements; an engine whose store can walk backwards (RocksDB, memory) reads only what it returns.
    /// </summary>
    bool ReadElementsBackward(ReadOnlySpan<byte> key, byte[]? beforeElement, int limit, List<StoredElement> into)
    {
        var before = new List<StoredElement>();
        byte[]? after = null;
        bool more;
        do
        {
            int start = before.Count;
            more = ReadElements(key, after, ElementNames.InitialPageCapacity, before);
            if (before.Count == start)
            {
                break;
            }

            after = before[^1].Name;
            if (beforeElement is not null && ElementNames.Compare(after, beforeElement) >= 0)
            {
                break;
            }
        }
        while (more);

        int end = before.Count;
        while (beforeElement is not null && end > 0 && ElementNames.Compare(before[end - 1].Name, beforeElement) >= 0)
        {
            end--;
        }

        int first = Math.Max(0, end - limit);
        for (int i = end - 1; i >= first; i--)
        {
            into.Add(before[i]);
        }

        return first > 0;
    }
}
