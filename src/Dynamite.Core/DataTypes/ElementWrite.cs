using Dynamite.Core.Versioning;
using Dynamite.Core.Wire;

namespace Dynamite.Core.DataTypes;

/// <summary>
/// One write that keeps an element present (docs/DATA-TYPES.md), named by the <see cref="Dot"/> its coordinator
/// gave it. What it carries depends on the command that made it: a register write (<c>SET</c>, <c>HSET</c>)
/// carries a <see cref="Value"/>; a counter write (<c>INCRBY</c>, <c>HINCRBY</c>, <c>INCRBYFLOAT</c>) carries its
/// chain's running <see cref="Counter"/> totals; a presence write (<c>SADD</c>) carries neither.
/// Equality compares the value's bytes. Invariant: <see cref="Value"/> is never mutated.
/// </summary>
/// <param name="Dot">The write's event; unique within a key.</param>
/// <param name="TimestampUnixMs">Wall-clock time of the write at its coordinator; last-writer-wins compares it.</param>
/// <param name="Value">The register value, or null.</param>
/// <param name="Counter">A counter write's chain totals, or null.</param>
public sealed record ElementWrite(Dot Dot, long TimestampUnixMs, byte[]? Value, CounterTotals? Counter = null)
{
    public bool IsRegister => Value is not null;

    public bool IsCounter => Counter is not null;

    /// <summary>True when this write, not <paramref name="other"/>, wins last-writer-wins: later timestamp, then higher dot.</summary>
    public bool IsLaterThan(ElementWrite other)
    {
        ArgumentNullException.ThrowIfNull(other);
        int order = TimestampUnixMs.CompareTo(other.TimestampUnixMs);
        return (order == 0 ? Dot.CompareTo(other.Dot) : order) > 0;
    }

    public bool Equals(ElementWrite? other) =>
        other is not null
        && (ReferenceEquals(this, other)
            || (Dot == other.Dot
                && TimestampUnixMs == other.TimestampUnixMs
                && Nullable.Equals(Counter, other.Counter)
                && NullableBytes.Equal(Value, other.Value)));

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Dot);
        hash.Add(TimestampUnixMs);
        hash.Add(Counter);
        NullableBytes.AddTo(ref hash, Value);
        return hash.ToHashCode();
    }

    public override string ToString() =>
        $"{Dot}@{TimestampUnixMs}{(Value is null ? string.Empty : $" {Value.Length} bytes")}{(Counter is { } counter ? $" {counter}" : string.Empty)}";
}
