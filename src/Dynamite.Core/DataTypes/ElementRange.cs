namespace Dynamite.Core.DataTypes;

/// <summary>
/// A range of element names in byte order: those after <see cref="After"/> (exclusive; null: from the first) up to
/// <see cref="Through"/> (inclusive; null: to the last). The names one page of a whole key covers, when a key too large
/// for one message travels in pages (<see cref="KeyDelta.RemovalScope"/>).
/// </summary>
public sealed class ElementRange(byte[]? after, byte[]? through)
{
    public byte[]? After { get; } = after;

    public byte[]? Through { get; } = through;

    public bool Contains(ReadOnlySpan<byte> name) => !IsBefore(name) && !IsPast(name);

    /// <summary>True when <paramref name="name"/> comes after the range's last name.</summary>
    public bool IsPast(ReadOnlySpan<byte> name) => Through is not null && name.SequenceCompareTo(Through) > 0;

    private bool IsBefore(ReadOnlySpan<byte> name) => After is not null && name.SequenceCompareTo(After) <= 0;
}
