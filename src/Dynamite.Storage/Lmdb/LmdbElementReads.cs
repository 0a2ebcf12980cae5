using System.Diagnostics.CodeAnalysis;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;
using LightningDB;

namespace Dynamite.Storage.Lmdb;

/// <summary>
/// Reads of a key's elements from <see cref="LmdbStore.Elements"/> (or of its index entries from
/// <see cref="LmdbStore.IndexEntries"/>, keyed the same way): one element by name, or a page in name order.
/// Names too long for an LMDB key are stored under a long form (<see cref="LmdbKeys"/>), so a page sorts such runs
/// and a point read checks the name the entry carries.
/// </summary>
internal static class LmdbElementReads
{
    /// <summary>
    /// Reads element <paramref name="element"/> of <paramref name="key"/> in <paramref name="transaction"/>, copied out of
    /// the map. Under a long name's long form the entry's name must be this one: a different one (a SHA-256 collision)
    /// reads as absent.
    /// </summary>
    public static bool TryReadElement(this LmdbStore store, LightningTransaction transaction, LightningDatabase database, ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value)
    {
        Span<byte> elementKey = stackalloc byte[LmdbKeys.MaxStoredKeyLength];
        elementKey = elementKey[..LmdbKeys.ElementKeyLength(key.Length, element.Length)];
        LmdbKeys.WriteElementKey(elementKey, KeyPartitioner.HashKey(key), key, element);
        value = null;
        if (!store.TryGet(transaction, database, elementKey, out ReadOnlySpan<byte> stored))
        {
            return false;
        }

        if (!LmdbKeys.IsLongName(element.Length, LmdbKeys.ElementPrefixLength(key.Length)))
        {
            value = stored.ToArray();
            return true;
        }

        if (!LmdbElementCodec.DecodeLongForm(stored, out ReadOnlySpan<byte> storedValue).SequenceEqual(element))
        {
            return false;
        }

        value = storedValue.ToArray();
        return true;
    }

    /// <summary>
    /// Appends up to <paramref name="limit"/> elements of <paramref name="key"/> named after
    /// <paramref name="afterElement"/> (null: from the first) to <paramref name="into"/>, in name order, and returns
    /// whether more remain. One cursor walk over the key's prefix. It seeks to the prefix and at most the first
    /// <see cref="LmdbKeys.LongNamePrefixLength"/> bytes of <paramref name="afterElement"/>, since a longer name after it
    /// may be stored before it (in a run, <see cref="LmdbKeys"/>); every entry before that seek position names an
    /// element before <paramref name="afterElement"/>. A run is read whole and sorted by name.
    /// </summary>
    public static bool ReadElements(this LmdbStore store, LightningTransaction transaction, LightningDatabase database, ReadOnlySpan<byte> key, byte[]? afterElement, int limit, List<StoredElement> into)
    {
        Span<byte> seek = stackalloc byte[LmdbKeys.MaxStoredKeyLength];
        Span<byte> runStart = stackalloc byte[LmdbKeys.MaxStoredKeyLength];
        int prefixLength = LmdbKeys.ElementPrefixLength(key.Length);
        int runLength = LmdbKeys.LongNamePrefixLength(prefixLength);
        LmdbKeys.WriteElementPrefix(seek[..prefixLength], KeyPartitioner.HashKey(key), key);
        int seekLength = prefixLength;
        if (afterElement is not null)
        {
            ReadOnlySpan<byte> start = afterElement.AsSpan(0, Math.Min(afterElement.Length, runLength));
            start.CopyTo(seek[prefixLength..]);
            seekLength += start.Length;
        }

        ReadOnlySpan<byte> prefix = seek[..prefixLength];
        using LightningCursor cursor = transaction.CreateCursor(database);
        List<StoredElement>? run = null;
        int read = 0;
        (MDBResultCode result, MDBValue entryKey, MDBValue entryValue) = LmdbStore.Seek(cursor, seek[..seekLength]);
        while (result == MDBResultCode.Success && entryKey.AsSpan().StartsWith(prefix))
        {
            ReadOnlySpan<byte> namePart = entryKey.AsSpan()[prefixLength..];
            if (namePart.Length <= runLength)
            {
                // In its place in name order: only names longer than the run length can be stored out of it.
                if (ElementNames.IsAfter(namePart, afterElement))
                {
                    if (read == limit)
                    {
                        return true;
                    }

                    into.Add(new StoredElement(namePart.ToArray(), entryValue.AsSpan().ToArray()));
                    read++;
                }

                (result, entryKey, entryValue) = cursor.Next();
                continue;
            }

            run ??= [];
            run.Clear();
            namePart[..runLength].CopyTo(runStart);
            do
            {
                run.Add(ReadEntry(namePart, entryValue.AsSpan(), prefixLength));
                (result, entryKey, entryValue) = cursor.Next();
            }
            while (result == MDBResultCode.Success
                && entryKey.AsSpan().StartsWith(prefix)
                && (namePart = entryKey.AsSpan()[prefixLength..]).Length > runLength
                && namePart[..runLength].SequenceEqual(runStart[..runLength]));

            run.Sort(ElementNames.Order);
            foreach (StoredElement element in run)
            {
                if (ElementNames.IsAfter(element.Name, afterElement))
                {
                    if (read == limit)
                    {
                        return true;
                    }

                    into.Add(element);
                    read++;
                }
            }
        }

        if (result is not (MDBResultCode.Success or MDBResultCode.NotFound))
        {
            store.Check(result);
        }

        return false;
    }

    /// <summary>An element entry copied out of the map: its whole name from the entry when the name part is a long form.</summary>
    private static StoredElement ReadEntry(ReadOnlySpan<byte> namePart, ReadOnlySpan<byte> stored, int prefixLength)
    {
        if (!LmdbKeys.IsLongNamePart(namePart, prefixLength))
        {
            return new StoredElement(namePart.ToArray(), stored.ToArray());
        }

        ReadOnlySpan<byte> name = LmdbElementCodec.DecodeLongForm(stored, out ReadOnlySpan<byte> value);
        return new StoredElement(name.ToArray(), value.ToArray());
    }
}
