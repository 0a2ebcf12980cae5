using Dynamite.Core.Versioning;
using Dynamite.Core.Wire;

namespace Dynamite.Core.DataTypes;

/// <summary>
/// The identity of a write for last-writer-wins: its coordinator's timestamp and its dot. A later timestamp wins, and
/// a tie goes to the higher dot, so every replica picks the same winner (as <see cref="VersionedObject"/> resolves
/// siblings). <see cref="None"/> loses to every write.
/// </summary>
public readonly record struct Stamp(long TimestampUnixMs, Dot? Dot)
{
    /// <summary>No write: what a register holds before anyone set it.</summary>
    public static Stamp None { get; } = new(0, null);

    public bool IsLaterThan(Stamp other)
    {
        if (Dot is null || other.Dot is null)
        {
            return Dot is not null && other.Dot is null;
        }

        int order = TimestampUnixMs.CompareTo(other.TimestampUnixMs);
        return (order == 0 ? Dot.Value.CompareTo(other.Dot.Value) : order) > 0;
    }

    public override string ToString() => Dot is null ? "never" : $"{Dot}@{TimestampUnixMs}";

    internal int GetEncodedLength() =>
        Dot is { } dot ? 1 + WireWriter.SizeOfVarInt64(TimestampUnixMs) + DotWire.SizeOf(dot) : 1;

    /// <summary>A byte (0: <see cref="None"/>, 1: a write follows), then the zigzag timestamp, the actor id and the varint counter.</summary>
    internal void WriteTo(ref WireWriter writer)
    {
        if (Dot is not { } dot)
        {
            writer.WriteByte(0);
            return;
        }

        writer.WriteByte(1);
        writer.WriteVarInt64(TimestampUnixMs);
        DotWire.Write(ref writer, dot);
    }

    internal static Stamp ReadFrom(ref WireReader reader)
    {
        int offset = reader.Position;
        byte marker = reader.ReadByte();
        if (marker == 0)
        {
            return None;
        }

        if (marker != 1)
        {
            throw new FormatException($"Write stamp marker {marker} at offset {offset} is neither 0 nor 1.");
        }

        long timestamp = reader.ReadVarInt64();
        return new Stamp(timestamp, DotWire.Read(ref reader));
    }
}
