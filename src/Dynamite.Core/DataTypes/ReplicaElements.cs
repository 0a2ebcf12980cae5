using Dynamite.Core.Wire;

namespace Dynamite.Core.DataTypes;

/// <summary>What a replica stores under a key, as far as a typed read needs it.</summary>
public enum StoredKeyKind : byte
{
    /// <summary>Nothing (or only an expired record).</summary>
    None = 0,

    /// <summary>A typed key: the record is a <see cref="TypedKeyRecord"/>.</summary>
    Typed = 1,

    /// <summary>A string: the record is an encoded <see cref="Versioning.VersionedObject"/>.</summary>
    Plain = 2,
}

/// <summary>
/// One replica's answer to an element read (<see cref="ElementSelection"/>): the key's record and the elements
/// selected, each with its stored <see cref="ElementState"/>; for a page, whether more elements follow. The
/// coordinator joins R of them (<see cref="TypedReadJoin"/>). Binary form: kind, record length and bytes, element
/// count, each name length and bytes and state length and bytes, then 1 if more elements follow.
/// </summary>
public sealed record ReplicaElements(StoredKeyKind Kind, byte[] Record, IReadOnlyList<KeyValuePair<byte[], ElementState>> Elements, bool HasMore)
{
    public static ReplicaElements Absent { get; } = new(StoredKeyKind.None, [], [], false);

    public byte[] Encode()
    {
        var states = new byte[Elements.Count][];
        int length = 1 + WireWriter.SizeOfVarUInt64((ulong)Record.Length) + Record.Length + WireWriter.SizeOfVarUInt64((ulong)Elements.Count) + 1;
        for (int i = 0; i < Elements.Count; i++)
        {
            states[i] = Elements[i].Value.Encode();
            length += WireWriter.SizeOfVarUInt64((ulong)Elements[i].Key.Length) + Elements[i].Key.Length
                + WireWriter.SizeOfVarUInt64((ulong)states[i].Length) + states[i].Length;
        }

        byte[] bytes = new byte[length];
        var writer = new WireWriter(bytes);
        writer.WriteByte((byte)Kind);
        writer.WriteVarUInt64((ulong)Record.Length);
        writer.WriteBytes(Record);
        writer.WriteVarUInt64((ulong)Elements.Count);
        for (int i = 0; i < Elements.Count; i++)
        {
            writer.WriteVarUInt64((ulong)Elements[i].Key.Length);
            writer.WriteBytes(Elements[i].Key);
            writer.WriteVarUInt64((ulong)states[i].Length);
            writer.WriteBytes(states[i]);
        }

        writer.WriteByte(HasMore ? (byte)1 : (byte)0);
        return bytes;
    }

    /// <summary>Reads a whole encoded answer; malformed or trailing input is a <see cref="FormatException"/>.</summary>
    public static ReplicaElements Decode(ReadOnlySpan<byte> source)
    {
        var reader = new WireReader(source);
        var kind = (StoredKeyKind)reader.ReadByte();
        if (!Enum.IsDefined(kind))
        {
            throw new FormatException($"Replica elements: stored kind {(byte)kind} is not known.");
        }

        byte[] record = reader.ReadBytes(reader.ReadCount(source.Length, "record bytes")).ToArray();
        // An element takes at least two length bytes and a state's format byte.
        var elements = new KeyValuePair<byte[], ElementState>[reader.ReadCount(Math.Min(ElementSelection.MaxElements, reader.Remaining / 3), "elements")];
        for (int i = 0; i < elements.Length; i++)
        {
            byte[] name = reader.ReadBytes(reader.ReadCount(source.Length, "name bytes")).ToArray();
            ElementState state = ElementState.Decode(reader.ReadBytes(reader.ReadCount(source.Length, "state bytes")));
            elements[i] = new(name, state);
        }

        byte more = reader.ReadByte();
        if (more > 1)
        {
            throw new FormatException($"Replica elements: more-flag {more} is not 0 or 1.");
        }

        reader.ExpectEnd();
        return new ReplicaElements(kind, record, elements, more == 1);
    }
}
