using System.Diagnostics.CodeAnalysis;

namespace Dynamite.Core.KeyValue;

/// <summary>
/// The view an <see cref="IStorageOperation"/> runs against: reads see the engine's state plus the
/// operation's own staged changes; writes are staged and applied all-or-nothing after the operation returns.
/// Threading: valid only during <see cref="IStorageOperation.Execute"/>, on the thread that called it.
/// <para>
/// Two keyspaces: a key's <b>record</b> (a string's value, or a typed key's header) and its <b>elements</b>
/// (docs/DATA-TYPES.md, "Storage": a set member, a hash field), each a record of its own under the key and the
/// element's name, ordered by name so that one key's elements are one range. Element values are opaque bytes and
/// carry no expiry: an element read does not consult the key's record, so a caller reads the record (a typed key's
/// header, with its expiry) first. The two keyspaces change together in the operation's one atomic write.
/// </para>
/// <para>
/// A key's elements live as long as its record is not removed: <see cref="Delete"/>, the engine's expiry sweep and
/// a clear remove them with it. <see cref="Write"/> replaces only the record (a typed key's header is rewritten on
/// every change of its elements), so a caller that gives a key a record of another kind (a <c>SET</c> over a hash)
/// or creates a key that read as absent (an expired key the sweep has not removed yet keeps its elements) calls
/// <see cref="DeleteAllElements"/> in the same operation.
/// </para>
/// </summary>
public interface IStorageTransaction
{
    /// <summary>The time the operation runs at; records expired at this time read as absent.</summary>
    long NowUnixMs { get; }

    /// <summary>Reads a live record; an expired or absent key returns false.</summary>
    bool TryRead(ReadOnlySpan<byte> key, out StoredRecord record);

    /// <summary>Stages a write of <paramref name="record"/> under <paramref name="key"/>. The engine keeps both arrays: callers pass copies they own.</summary>
    void Write(byte[] key, StoredRecord record);

    /// <summary>
    /// Stages a write of a string a bit command (SETBIT, BITFIELD) changed: <paramref name="bitPatches"/>
    /// (<see cref="Bitmaps.BitPatches"/>) are the fields it set. A node's own engine keeps only the record; a cluster
    /// node sends the fields with the value, so a read joins concurrent bit writes (<see cref="Bitmaps.BitmapSiblings"/>).
    /// </summary>
    void WriteBits(byte[] key, StoredRecord record, byte[] bitPatches) => Write(key, record);

    /// <summary>Stages a delete of <paramref name="key"/>'s record and of every element of the key.</summary>
    void Delete(byte[] key);

    /// <summary>Reads element <paramref name="element"/> of <paramref name="key"/>; false when it is absent.</summary>
    bool TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value);

    /// <summary>
    /// Up to <paramref name="limit"/> (at least 1) elements of <paramref name="key"/> whose names sort after
    /// <paramref name="afterElement"/>, in name byte order. Null starts from the first element; an empty array starts
    /// after the element named by the empty string (a real name: a string key's element has it), which is why the
    /// start is null rather than empty. A page with more elements after it is full (<paramref name="limit"/> elements);
    /// pass its <see cref="ElementPage.ResumeAfter"/> to read the next page.
    /// </summary>
    ElementPage ScanElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit);

    /// <summary>Every element of <paramref name="key"/> in name order, read in pages of 1,024 (one <see cref="ScanElements"/> call each).</summary>
    IEnumerable<StoredElement> AllElements(byte[] key)
    {
        byte[]? after = null;
        do
        {
            ElementPage page = ScanElements(key, after, 1024);
            foreach (StoredElement element in page.Elements)
            {
                yield return element;
            }

            after = page.ResumeAfter;
        }
        while (after is not null);
    }

    /// <summary>
    /// Up to <paramref name="limit"/> (at least 1) elements of <paramref name="key"/> whose names sort before
    /// <paramref name="beforeElement"/> (null: from the last), last first; a page with more elements before it is full.
    /// Pass the name of its last (smallest) element to read the next page. An engine's own transaction reads only what it
    /// returns (a list's tail is one seek); this default, for views that can only walk forwards, reads the names before the
    /// bound and keeps the last ones, O(n).
    /// </summary>
    ElementPage ScanElementsBackward(ReadOnlySpan<byte> key, byte[]? beforeElement, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var before = new List<StoredElement>();
        byte[]? after = null;
        ElementPage page;
        do
        {
            page = ScanElements(key, after, 1024);
            foreach (StoredElement element in page.Elements)
            {
                if (beforeElement is not null && element.Name.AsSpan().SequenceCompareTo(beforeElement) >= 0)
                {
                    return LastOf(before, limit);
                }

                before.Add(element);
            }

            after = page.Elements.Count > 0 ? page.Elements[^1].Name : after;
        }
        while (page.HasMore);
        return LastOf(before, limit);

        static ElementPage LastOf(List<StoredElement> names, int count)
        {
            int first = Math.Max(0, names.Count - count);
            var last = new List<StoredElement>(names.Count - first);
            for (int i = names.Count - 1; i >= first; i--)
            {
                last.Add(names[i]);
            }

            return new ElementPage(last, first > 0);
        }
    }

    /// <summary>Stages a write of element <paramref name="element"/> of <paramref name="key"/>. The engine keeps the arrays: callers pass copies they own.</summary>
    void WriteElement(byte[] key, byte[] element, byte[] value);

    /// <summary>Stages a delete of element <paramref name="element"/> of <paramref name="key"/>.</summary>
    void DeleteElement(byte[] key, byte[] element);

    /// <summary>
    /// Stages a delete of every element of <paramref name="key"/>, leaving its record as it is (a type replacement:
    /// the new header is written beside it). Elements written after it in the same operation are kept.
    /// <para>
    /// In one go rather than in bounded steps: a DEL, a type replacement or an expiry must take the header and all the
    /// elements in the same atomic write, or a reader would see a header over some of its old elements, or elements
    /// without a header; bounding it would need a marker that hides the remaining elements across commits. The cost
    /// is the collection's: RocksDB writes one range tombstone, SQLite and LMDB delete the key's range in the
    /// operation's transaction, O(n) as Redis's DEL of a collection is.
    /// </para>
    /// </summary>
    void DeleteAllElements(byte[] key);

    /// <summary>
    /// True when this view keeps a key's <b>index entries</b>: a third keyspace beside records and elements, ordered
    /// bytes with no value that the type layer derives from a key's elements so that it can read them in another order
    /// (a sorted set's (score, member) order: docs/DATA-TYPES.md, "The score index"). Entries are local to the engine:
    /// never replicated, digested or handed off, since every replica derives the same ones from the elements it holds.
    /// A key's entries go with its elements (<see cref="Delete"/>, <see cref="DeleteAllElements"/>, the expiry sweep, a
    /// clear). Every engine's transaction keeps them; a view that does not (a cluster coordinator's join of replicas'
    /// elements) answers false and refuses the index calls, and its callers read the elements instead.
    /// </summary>
    bool KeepsIndex => false;

    /// <summary>Stages a write of index entry <paramref name="entry"/> of <paramref name="key"/> (see <see cref="KeepsIndex"/>). The engine keeps the arrays.</summary>
    void WriteIndexEntry(byte[] key, byte[] entry) => throw IndexNotKept();

    /// <summary>Stages a delete of index entry <paramref name="entry"/> of <paramref name="key"/>.</summary>
    void DeleteIndexEntry(byte[] key, byte[] entry) => throw IndexNotKept();

    /// <summary>Up to <paramref name="limit"/> index entries of <paramref name="key"/> after <paramref name="afterEntry"/>
    /// (null: from the first), in byte order, as <see cref="ScanElements"/> pages elements (each entry is an element's
    /// name with an empty value).</summary>
    ElementPage ScanIndex(ReadOnlySpan<byte> key, byte[]? afterEntry, int limit) => throw IndexNotKept();

    /// <summary>Up to <paramref name="limit"/> index entries of <paramref name="key"/> before <paramref name="beforeEntry"/>
    /// (null: from the last), last first, as <see cref="ScanElementsBackward"/> pages elements.</summary>
    ElementPage ScanIndexBackward(ReadOnlySpan<byte> key, byte[]? beforeEntry, int limit) => throw IndexNotKept();

    private static NotSupportedException IndexNotKept() => new("This storage view keeps no index entries (KeepsIndex is false).");
}
