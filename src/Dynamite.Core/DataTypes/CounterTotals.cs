using System.Buffers.Binary;
using Dynamite.Core.Versioning;
using Dynamite.Core.Wire;

namespace Dynamite.Core.DataTypes;

/// <summary>
/// The running totals of one counter chain (docs/DATA-TYPES.md, "Counters"): every increment one actor made to an
/// element since it began the chain, split into grow-only parts (as a PN-counter), so that the join of two
/// observations of one chain is their pointwise maximum. The chain is named by the dot of its first write: an actor
/// whose counter write was superseded starts a new chain, and a reset recorded for an old chain never touches it.
/// </summary>
/// <param name="Chain">The dot of the chain's first counter write.</param>
/// <param name="Increments">Sum of the positive integer increments.</param>
/// <param name="Decrements">Sum of the magnitudes of the negative integer increments.</param>
/// <param name="FloatIncrements">Sum of the positive float increments (INCRBYFLOAT), kept apart so integers stay exact.</param>
/// <param name="FloatDecrements">Sum of the magnitudes of the negative float increments.</param>
public readonly record struct CounterTotals(Dot Chain, long Increments, long Decrements, double FloatIncrements, double FloatDecrements)
{
    /// <summary>The chain's integer contribution (wide: totals may pass 64 bits before they are subtracted).</summary>
    public Int128 Net => (Int128)Increments - Decrements;

    public double FloatNet => FloatIncrements - FloatDecrements;

    /// <summary>These totals raised by one increment; <see cref="OverflowException"/> if a grow-only part leaves 64 bits.</summary>
    public CounterTotals Add(long by, double floatBy) => this with
    {
        Increments = by > 0 ? checked(Increments + by) : Increments,
        Decrements = by < 0 ? checked(Decrements - by) : Decrements,
        FloatIncrements = floatBy > 0 ? FloatIncrements + floatBy : FloatIncrements,
        FloatDecrements = floatBy < 0 ? FloatDecrements - floatBy : FloatDecrements,
    };

    /// <summary>The later observation of the same chain: each grow-only part's maximum.</summary>
    public CounterTotals Max(CounterTotals other) => new(
        Chain,
        Math.Max(Increments, other.Increments),
        Math.Max(Decrements, other.Decrements),
        Math.Max(FloatIncrements, other.FloatIncrements),
        Math.Max(FloatDecrements, other.FloatDecrements));

    public bool Equals(CounterTotals other) =>
        Chain == other.Chain && Increments == other.Increments && Decrements == other.Decrements
        && BitConverter.DoubleToInt64Bits(FloatIncrements) == BitConverter.DoubleToInt64Bits(other.FloatIncrements)
        && BitConverter.DoubleToInt64Bits(FloatDecrements) == BitConverter.DoubleToInt64Bits(other.FloatDecrements);

    public override int GetHashCode() => HashCode.Combine(Chain, Increments, Decrements, BitConverter.DoubleToInt64Bits(FloatIncrements), BitConverter.DoubleToInt64Bits(FloatDecrements));

    public override string ToString() => $"chain {Chain}: +{Increments} -{Decrements}{(FloatIncrements != 0 || FloatDecrements != 0 ? $" +{FloatIncrements}f -{FloatDecrements}f" : string.Empty)}";

    private bool HasFloatParts => FloatIncrements != 0 || FloatDecrements != 0;

    /// <summary>Bytes <see cref="WriteTo"/> takes.</summary>
    internal int GetEncodedLength() =>
        DotWire.SizeOf(Chain) + WireWriter.SizeOfVarUInt64((ulong)Increments) + WireWriter.SizeOfVarUInt64((ulong)Decrements)
        + 1 + (HasFloatParts ? 2 * sizeof(double) : 0);

    /// <summary>The chain's dot, varint increments and decrements, a byte (1 when float parts follow), two little-endian doubles.</summary>
    internal void WriteTo(ref WireWriter writer)
    {
        DotWire.Write(ref writer, Chain);
        writer.WriteVarUInt64((ulong)Increments);
        writer.WriteVarUInt64((ulong)Decrements);
        if (!HasFloatParts)
        {
            writer.WriteByte(0);
            return;
        }

        writer.WriteByte(1);
        Span<byte> bytes = stackalloc byte[sizeof(double)];
        BinaryPrimitives.WriteDoubleLittleEndian(bytes, FloatIncrements);
        writer.WriteBytes(bytes);
        BinaryPrimitives.WriteDoubleLittleEndian(bytes, FloatDecrements);
        writer.WriteBytes(bytes);
    }

    internal static CounterTotals ReadFrom(ref WireReader reader)
    {
        int offset = reader.Position;
        Dot chain = DotWire.Read(ref reader);
        ulong increments = reader.ReadVarUInt64();
        ulong decrements = reader.ReadVarUInt64();
        if (increments > long.MaxValue || decrements > long.MaxValue)
        {
            throw new FormatException($"Counter totals of chain {chain} at offset {offset} are out of range.");
        }

        byte floats = reader.ReadByte();
        if (floats == 0)
        {
            return new CounterTotals(chain, (long)increments, (long)decrements, 0, 0);
        }

        if (floats != 1)
        {
            throw new FormatException($"Counter totals of chain {chain} at offset {offset} have float marker {floats}.");
        }

        double up = BinaryPrimitives.ReadDoubleLittleEndian(reader.ReadBytes(sizeof(double)));
        double down = BinaryPrimitives.ReadDoubleLittleEndian(reader.ReadBytes(sizeof(double)));
        if (!double.IsFinite(up) || !double.IsFinite(down) || up < 0 || down < 0 || (up == 0 && down == 0))
        {
            throw new FormatException($"Counter totals of chain {chain} at offset {offset} have float parts {up} and {down} (negative, not finite, or both zero: not canonical).");
        }

        return new CounterTotals(chain, (long)increments, (long)decrements, up, down);
    }
}
