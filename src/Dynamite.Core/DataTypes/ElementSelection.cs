using Dynamite.Core.Wire;

namespace Dynamite.Core.DataTypes;

/// <summary>
/// Which elements of a typed key a quorum read asks each replica for: the named ones (<c>HGET</c>, <c>SISMEMBER</c>:
/// point reads, O(log n) each), one page of all of them in name order after a name (<c>HGETALL</c>, <c>SMEMBERS</c>,
/// <c>SSCAN</c>), or the elements of one page of the key's index entries from a bound, forwards or backwards (a sorted
/// set's range: the members named by its first entries in score order, <see cref="ScoreIndex"/>). Binary form: mode
/// (0 named, 1 page, 2 index window), then the names (count, each length and bytes), or whether there is an "after"
/// name, that name, and the page's limit; an index window has a direction byte (1: backwards) before the bound.
/// </summary>
public sealed class ElementSelection
{
    /// <summary>The most names one read asks for, and the largest page.</summary>
    public const int MaxElements = 4096;

    private ElementSelection(byte[][]? names, byte[]? after, int limit, bool indexWindow = false, bool backward = false)
    {
        Names = names;
        After = after;
        Limit = limit;
        IsIndexWindow = indexWindow;
        Backward = backward;
    }

    /// <summary>The names asked for; null for a page.</summary>
    public IReadOnlyList<byte[]>? Names { get; }

    /// <summary>A page starts after this name (null: from the first).</summary>
    public byte[]? After { get; }

    /// <summary>A page's most elements.</summary>
    public int Limit { get; }

    public bool IsPage => Names is null;

    /// <summary>True for a page of index entries: <see cref="After"/> is the bound they start from (exclusive), read
    /// backwards when <see cref="Backward"/>; the reply holds the elements the entries name, in entry order.</summary>
    public bool IsIndexWindow { get; }

    /// <summary>An index window read from its bound towards the first entries (last first).</summary>
    public bool Backward { get; }

    public static ElementSelection Named(IEnumerable<byte[]> names)
    {
        byte[][] list = [.. names];
        ArgumentOutOfRangeException.ThrowIfGreaterThan(list.Length, MaxElements);
        return new ElementSelection(list, null, list.Length);
    }

    public static ElementSelection Page(byte[]? after, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxElements);
        return new ElementSelection(null, after, limit);
    }

    /// <summary>The elements named by up to <paramref name="limit"/> index entries from <paramref name="bound"/>.</summary>
    public static ElementSelection IndexWindow(byte[]? bound, int limit, bool backward)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxElements);
        return new ElementSelection(null, bound, limit, indexWindow: true, backward);
    }

    public byte[] Encode()
    {
        int length = 1;
        if (Names is { } names)
        {
            length += WireWriter.SizeOfVarUInt64((ulong)names.Count);
            foreach (byte[] name in names)
            {
                length += WireWriter.SizeOfVarUInt64((ulong)name.Length) + name.Length;
            }
        }
        else
        {
            length += (IsIndexWindow ? 2 : 1) + (After is null ? 0 : WireWriter.SizeOfVarUInt64((ulong)After.Length) + After.Length) + WireWriter.SizeOfVarUInt64((ulong)Limit);
        }

        byte[] bytes = new byte[length];
        var writer = new WireWriter(bytes);
        writer.WriteByte(IsIndexWindow ? (byte)2 : IsPage ? (byte)1 : (byte)0);
        if (Names is { } named)
        {
            writer.WriteVarUInt64((ulong)named.Count);
            foreach (byte[] name in named)
            {
                writer.WriteVarUInt64((ulong)name.Length);
                writer.WriteBytes(name);
            }
        }
        else
        {
            if (IsIndexWindow)
            {
                writer.WriteByte(Backward ? (byte)1 : (byte)0);
            }

            writer.WriteByte(After is null ? (byte)0 : (byte)1);
            if (After is not null)
            {
                writer.WriteVarUInt64((ulong)After.Length);
                writer.WriteBytes(After);
            }

            writer.WriteVarUInt64((ulong)Limit);
        }

        return bytes;
    }

    /// <summary>Reads a whole encoded selection; malformed or trailing input is a <see cref="FormatException"/>.</summary>
    public static ElementSelection Decode(ReadOnlySpan<byte> source)
    {
        var reader = new WireReader(source);
        byte mode = reader.ReadByte();
        ElementSelection selection;
        if (mode == 0)
        {
            var names = new byte[reader.ReadCount(Math.Min(MaxElements, reader.Remaining), "names")][];
            for (int i = 0; i < names.Length; i++)
            {
                names[i] = reader.ReadBytes(reader.ReadCount(source.Length, "name bytes")).ToArray();
            }

            selection = new ElementSelection(names, null, names.Length);
        }
        else if (mode is 1 or 2)
        {
            byte backward = mode == 2 ? reader.ReadByte() : (byte)0;
            if (backward > 1)
            {
                throw new FormatException($"Element selection: direction {backward} is not 0 or 1.");
            }

            byte hasAfter = reader.ReadByte();
            if (hasAfter > 1)
            {
                throw new FormatException($"Element selection: after-flag {hasAfter} is not 0 or 1.");
            }

            byte[]? after = hasAfter == 1 ? reader.ReadBytes(reader.ReadCount(source.Length, "after bytes")).ToArray() : null;
            int limit = reader.ReadCount(MaxElements, "limit");
            if (limit < 1)
            {
                throw new FormatException("Element selection: a page's limit must be at least 1.");
            }

            selection = new ElementSelection(null, after, limit, indexWindow: mode == 2, backward: backward == 1);
        }
        else
        {
            throw new FormatException($"Element selection mode {mode} is not known.");
        }

        reader.ExpectEnd();
        return selection;
    }
}
