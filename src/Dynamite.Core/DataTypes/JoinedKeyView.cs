using System.Diagnostics.CodeAnalysis;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Versioning;

namespace Dynamite.Core.DataTypes;

/// <summary>
/// A read-only <see cref="IStorageTransaction"/> over what a cluster's quorum read of one typed key joined: an
/// <see cref="IElementReadOperation"/> runs over it exactly as it runs over a single node's engine. The key's record is
/// the joined header with the count of the elements read (exact when the read covered every element), or the string
/// that won at the key; elements are the joined present ones. Writes throw: a read that writes is a bug.
/// </summary>
public sealed class JoinedKeyView : IStorageTransaction
{
    private readonly byte[] _key;
    private readonly StoredRecord? _record;
    private readonly KeyValuePair<byte[], ElementState>[] _elements;
    private readonly bool _moreAfterLast;

    /// <param name="key">The key read.</param>
    /// <param name="header">The joined header (null: no typed key).</param>
    /// <param name="plain">The joined string, when one wins at the key (null: none).</param>
    /// <param name="elements">The present elements the read joined, in any order.</param>
    /// <param name="moreAfterLast">True when the key has elements after the last one read (a range read that stopped at its limit).</param>
    /// <param name="nowUnixMs">The time the read is answered at.</param>
    public JoinedKeyView(byte[] key, KeyHeader? header, VersionedObject? plain, IEnumerable<KeyValuePair<byte[], ElementState>> elements, bool moreAfterLast, long nowUnixMs)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(elements);
        _key = key;
        NowUnixMs = nowUnixMs;
        _elements = [.. elements];
        Array.Sort(_elements, static (x, y) => x.Key.AsSpan().SequenceCompareTo(y.Key));
        _moreAfterLast = moreAfterLast;
        if (header is not null)
        {
            _record = header.IsExpiredAt(nowUnixMs) ? null : new TypedKeyRecord(header, _elements.Length).ToStoredRecord();
        }
        else if (plain?.ResolveLastWriterWins() is { IsTombstone: false } live && !live.IsExpiredAt(nowUnixMs))
        {
            _record = new StoredRecord(live.Value!, live.ExpiresAtUnixMs);
        }
    }

    public long NowUnixMs { get; }

    public bool TryRead(ReadOnlySpan<byte> key, out StoredRecord record)
    {
        record = default;
        if (!key.SequenceEqual(_key) || _record is not { } stored)
        {
            return false;
        }

        record = stored;
        return true;
    }

    public bool TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value)
    {
        value = null;
        if (!key.SequenceEqual(_key) || _record is not { IsTypedHeader: true })
        {
            return false;
        }

        int index = IndexAfter(element, inclusive: true);
        if (index >= _elements.Length || !_elements[index].Key.AsSpan().SequenceEqual(element))
        {
            return false;
        }

        value = _elements[index].Value.Encode();
        return true;
    }

    public ElementPage ScanElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        if (!key.SequenceEqual(_key) || _record is not { IsTypedHeader: true })
        {
            return ElementPage.Empty;
        }

        int start = afterElement is null ? 0 : IndexAfter(afterElement, inclusive: false);
        int end = (int)Math.Min(_elements.Length, (long)start + limit);
        var page = new StoredElement[end - start];
        for (int i = start; i < end; i++)
        {
            page[i - start] = new StoredElement(_elements[i].Key, _elements[i].Value.Encode());
        }

        return new ElementPage(page, page.Length > 0 && (end < _elements.Length || _moreAfterLast));
    }

    public void Write(byte[] key, StoredRecord record) => throw ReadOnly();

    public void Delete(byte[] key) => throw ReadOnly();

    public void WriteElement(byte[] key, byte[] element, byte[] value) => throw ReadOnly();

    public void DeleteElement(byte[] key, byte[] element) => throw ReadOnly();

    public void DeleteAllElements(byte[] key) => throw ReadOnly();

    /// <summary>The index of the first element whose name is at least (inclusive) or after <paramref name="name"/>.</summary>
    private int IndexAfter(ReadOnlySpan<byte> name, bool inclusive)
    {
        int low = 0, high = _elements.Length;
        while (low < high)
        {
            int middle = (low + high) >>> 1;
            int order = _elements[middle].Key.AsSpan().SequenceCompareTo(name);
            if (order < 0 || (order == 0 && !inclusive))
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    private static InvalidOperationException ReadOnly() => new("A joined read of a typed key is read-only: an element read operation must not write.");
}
