using Dynamite.Core.Versioning;

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
}
