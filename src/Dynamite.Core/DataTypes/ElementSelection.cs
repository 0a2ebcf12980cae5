using Dynamite.Core.Wire;

namespace Dynamite.Core.DataTypes;

/// <summary>
/// Which elements of a typed key a quorum read asks each replica for: the named ones (<c>HGET</c>, <c>SISMEMBER</c>:
/// point reads, O(log n) each), or one page of all of them in name order after a name (<c>HGETALL</c>, <c>SMEMBERS</c>,
/// <c>SSCAN</c>). Binary form: mode (0 named, 1 page), then the names (count, each length and bytes), or whether
/// there is an "after" name, that name, and the page's limit.
/// </summary>
public sealed class ElementSelection
{
    /// <summary>The most names one read asks for, and the largest page.</summary>
    public const int MaxElements = 4096;

    private ElementSelection(byte[][]? names, byte[]? after, int limit)
    {
        Names = names;
        After = after;
        Limit = limit;
    }

    /// <summary>The names asked for; null for a page.</summary>
    public IReadOnlyList<byte[]>? Names { get; }

    /// <summary>A page starts after this name (null: from the first).</summary>
    public byte[]? After { get; }

    /// <summary>A page's most elements.</summary>
    public int Limit { get; }

    public bool IsPage => Names is null;

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
            length += 1 + (After is null ? 0 : WireWriter.SizeOfVarUInt64((ulong)After.Length) + After.Length) + WireWriter.SizeOfVarUInt64((ulong)Limit);
        }

        byte[] bytes = new byte[length];
        var writer = new WireWriter(bytes);
        writer.WriteByte(IsPage ? (byte)1 : (byte)0);
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
        else if (mode == 1)
        {
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

            selection = new ElementSelection(null, after, limit);
        }
        else
        {
            throw new FormatException($"Element selection mode {mode} is not known.");
        }

        reader.ExpectEnd();
        return selection;
    }
}
