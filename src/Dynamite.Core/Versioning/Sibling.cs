using Dynamite.Core.Wire;

namespace Dynamite.Core.Versioning;

/// <summary>
/// One concurrent value of a key, created by the write whose event is <paramref name="Dot"/>
/// (Riak's dotted version vector siblings). A null <paramref name="Value"/> is a tombstone: a delete
/// that must travel like a write so replicas that missed it do not resurrect the value.
/// Equality compares the value's bytes. Invariant: <see cref="Value"/> is never mutated.
/// </summary>
/// <param name="Dot">The event that created this sibling; unique within an object.</param>
/// <param name="Value">The value bytes, or null for a tombstone.</param>
/// <param name="TimestampUnixMs">Wall-clock time of the write at its coordinator; last-writer-wins compares it.</param>
/// <param name="ExpiresAtUnixMs">Absolute expiry in Unix milliseconds; 0 means never (as <see cref="KeyValue.StoredRecord"/>).</param>
public sealed record Sibling(Dot Dot, byte[]? Value, long TimestampUnixMs, long ExpiresAtUnixMs)
{
    /// <summary>
    /// For a value written by a bit command (SETBIT, BITFIELD), the bits that write set (<see cref="Bitmaps.BitPatches"/>),
    /// so that concurrent bit writes through different nodes both survive a read; null for a write of the whole value.
    /// </summary>
    public byte[]? BitPatches { get; init; }

    public bool IsTombstone => Value is null;

    public bool HasExpiry => ExpiresAtUnixMs != 0;

    /// <summary>True when the sibling has expired at <paramref name="nowUnixMs"/> (Redis: expired when now &gt;= expiry).</summary>
    public bool IsExpiredAt(long nowUnixMs) => ExpiresAtUnixMs != 0 && ExpiresAtUnixMs <= nowUnixMs;

    public bool Equals(Sibling? other) =>
        other is not null
        && (ReferenceEquals(this, other)
            || (Dot == other.Dot
                && TimestampUnixMs == other.TimestampUnixMs
                && ExpiresAtUnixMs == other.ExpiresAtUnixMs
                && NullableBytes.Equal(Value, other.Value)
                && NullableBytes.Equal(BitPatches, other.BitPatches)));

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Dot);
        hash.Add(TimestampUnixMs);
        hash.Add(ExpiresAtUnixMs);
        NullableBytes.AddTo(ref hash, Value);
        NullableBytes.AddTo(ref hash, BitPatches);
        return hash.ToHashCode();
    }

    public override string ToString() =>
        $"{Dot}@{TimestampUnixMs}{(HasExpiry ? $" exp {ExpiresAtUnixMs}" : string.Empty)}: {(Value is null ? "tombstone" : $"{Value.Length} bytes")}";
}
