using System.Buffers.Binary;
using Dynamite.Core.KeyValue;

namespace Dynamite.Core.DataTypes;

/// <summary>
/// A sorted set's score index (docs/DATA-TYPES.md, "The score index"): one index entry per present member
/// (<see cref="IStorageTransaction.KeepsIndex"/>), whose bytes order as Redis orders the set, by score, then member.
/// An entry is the score in an order-preserving 8-byte form, a marker byte <see cref="MemberMarker"/>, then the member.
/// The marker leaves room for bounds of a score range between the entries of one score and those of the next
/// (<see cref="FirstAtOrAbove"/>, <see cref="LastAtOrBelow"/>), so that every range read is a page read from a bound.
/// <para>
/// The type layer keeps the entries where a member's element changes (<see cref="Move"/>: <see cref="TypedKeyJoin"/> on
/// every kind of node), so every replica derives the same entries from the elements it holds, and the entries are never
/// replicated. A score of -0 is indexed as 0, so that it sorts with 0 by member as Redis sorts it; an index read reports
/// it as 0.
/// </para>
/// </summary>
public static class ScoreIndex
{
    /// <summary>The byte between an entry's score and its member.</summary>
    public const byte MemberMarker = 1;

    /// <summary>The length of an encoded score.</summary>
    public const int ScoreLength = sizeof(ulong);

    private const ulong SignBit = 0x8000000000000000UL;

    /// <summary>The register's score: 8 bytes, the IEEE 754 bits big-endian; 0 for a value that is not one.</summary>
    public static double DecodeRegister(ReadOnlySpan<byte> encoded) =>
        encoded.Length == sizeof(double) ? BinaryPrimitives.ReadDoubleBigEndian(encoded) : 0;

    /// <summary>The score a member's state holds: the register's plus the counter chains' (ZINCRBY on a cluster).</summary>
    public static double ScoreOf(ElementState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        double register = state.RegisterWinner()?.Value is { } value ? DecodeRegister(value) : 0;
        return state.HasFloatCount() ? register + state.FloatCountSum() : register;
    }

    /// <summary>The entry of <paramref name="member"/> at <paramref name="score"/>.</summary>
    public static byte[] Entry(double score, ReadOnlySpan<byte> member)
    {
        byte[] entry = new byte[ScoreLength + 1 + member.Length];
        BinaryPrimitives.WriteUInt64BigEndian(entry, OrderedBits(score));
        entry[ScoreLength] = MemberMarker;
        member.CopyTo(entry.AsSpan(ScoreLength + 1));
        return entry;
    }

    /// <summary>The score an entry holds.</summary>
    public static double ScoreOfEntry(ReadOnlySpan<byte> entry)
    {
        ulong ordered = BinaryPrimitives.ReadUInt64BigEndian(entry);
        ulong bits = (ordered & SignBit) != 0 ? ordered ^ SignBit : ~ordered;
        return BitConverter.UInt64BitsToDouble(bits);
    }

    /// <summary>The member an entry names.</summary>
    public static ReadOnlySpan<byte> MemberOfEntry(ReadOnlySpan<byte> entry) => entry[(ScoreLength + 1)..];

    /// <summary>
    /// The bound to scan forwards after to reach the first entry whose score is at or above <paramref name="score"/>
    /// (above it when <paramref name="exclusive"/>): it sorts after every entry below and before every entry at or above.
    /// </summary>
    public static byte[] FirstAtOrAbove(double score, bool exclusive) => Bound(score, exclusive ? (byte)(MemberMarker + 1) : (byte)(MemberMarker - 1));

    /// <summary>
    /// The bound to scan backwards before to reach the last entry whose score is at or below <paramref name="score"/>
    /// (below it when <paramref name="exclusive"/>).
    /// </summary>
    public static byte[] LastAtOrBelow(double score, bool exclusive) => Bound(score, exclusive ? (byte)(MemberMarker - 1) : (byte)(MemberMarker + 1));

    /// <summary>
    /// Keeps the entry of member <paramref name="member"/> of <paramref name="key"/> in step with its element going from
    /// <paramref name="before"/> to <paramref name="after"/> (null or absent: no entry), when the transaction keeps an
    /// index: deletes the old entry and writes the new one when they differ.
    /// </summary>
    public static void Move(IStorageTransaction transaction, byte[] key, byte[] member, ElementState? before, ElementState? after)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        if (!transaction.KeepsIndex)
        {
            return;
        }

        bool wasPresent = before is { IsPresent: true };
        bool isPresent = after is { IsPresent: true };
        double oldScore = wasPresent ? ScoreOf(before!) : 0;
        double newScore = isPresent ? ScoreOf(after!) : 0;

        // Compared as entries compare (-0 as 0), before any entry is made: most joins (a new member's other replicas,
        // a repeated delta) leave the score as it was, and this runs on every replica of every sorted-set change.
        if (wasPresent && isPresent && OrderedBits(oldScore) == OrderedBits(newScore))
        {
            return;
        }

        if (wasPresent)
        {
            transaction.DeleteIndexEntry(key, Entry(oldScore, member));
        }

        if (isPresent)
        {
            transaction.WriteIndexEntry(key, Entry(newScore, member));
        }
    }

    /// <summary>The score in 8 bytes whose unsigned order is the scores' order: positives with the sign bit set, negatives
    /// with every bit flipped; -0 as 0.</summary>
    private static ulong OrderedBits(double score)
    {
        ulong bits = BitConverter.DoubleToUInt64Bits(score == 0 ? 0d : score);
        return (bits & SignBit) == 0 ? bits | SignBit : ~bits;
    }

    private static byte[] Bound(double score, byte marker)
    {
        byte[] bound = new byte[ScoreLength + 1];
        BinaryPrimitives.WriteUInt64BigEndian(bound, OrderedBits(score));
        bound[ScoreLength] = marker;
        return bound;
    }
}
