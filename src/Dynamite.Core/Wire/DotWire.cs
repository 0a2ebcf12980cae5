using Dynamite.Core.Membership;
using Dynamite.Core.Versioning;

namespace Dynamite.Core.Wire;

/// <summary>A dot in the core's binary encodings: its actor (<see cref="NodeIdWire"/>) and a varint counter, 1 or more.</summary>
internal static class DotWire
{
    public static int SizeOf(Dot dot) => NodeIdWire.SizeOf(dot.Node) + WireWriter.SizeOfVarUInt64((ulong)dot.Counter);

    public static void Write(ref WireWriter writer, Dot dot)
    {
        NodeIdWire.Write(ref writer, dot.Node);
        writer.WriteVarUInt64((ulong)dot.Counter);
    }

    /// <summary>Reads a dot; a bad actor id or a counter of 0 or past <see cref="long.MaxValue"/> is a <see cref="FormatException"/>.</summary>
    public static Dot Read(ref WireReader reader)
    {
        int offset = reader.Position;
        NodeId actor = NodeIdWire.Read(ref reader);
        ulong counter = reader.ReadVarUInt64();
        if (counter is 0 or > long.MaxValue)
        {
            throw new FormatException($"Counter {counter} of actor {actor} at offset {offset} is out of range.");
        }

        return new Dot(actor, (long)counter);
    }
}
