using System.Buffers.Binary;
using System.Text;
using Dynamite.Core.Membership;

namespace Dynamite.Protocols.Resp.Commands.ListOperations;

/// <summary>
/// Where an item stands in a list: its element's name, chosen so that the engines' name order is the list's order on
/// every replica, and so that a name can always be made between any two (docs/DATA-TYPES.md, "Lists"; Logoot, Weiss,
/// Urso and Molli 2009). A position is a sequence of levels of 20 bytes each, compared as bytes: a digit (4 bytes), then
/// the site (8 bytes: a hash of the node that made it) and a counter (8 bytes: the dot the node took for the write), so
/// two nodes pushing at the same place at once make different positions, and every replica orders them the same way.
/// A new position's last level always has a digit of at least 1; digit 0 only ever marks a level descended through.
/// </summary>
internal static class ListPosition
{
    public const int LevelLength = 20;

    /// <summary>Where the first item of an empty list goes: the middle of the first level, with room on both sides.</summary>
    private const uint MiddleDigit = 1u << 31;

    private const ulong DigitLimit = 1UL << 32;

    /// <summary>A 64-bit site number for <paramref name="actor"/> (FNV-1a of its name: stable across runs and nodes).</summary>
    public static ulong SiteOf(NodeId actor)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte value in Encoding.UTF8.GetBytes(actor.ToString()))
        {
            hash = (hash ^ value) * 1099511628211UL;
        }

        return hash;
    }

    /// <summary>
    /// A position after <paramref name="lower"/> and before <paramref name="upper"/> (either empty: the list's start or
    /// end), made by <paramref name="site"/> with its fresh <paramref name="counter"/>. At either end it steps by one
    /// digit, so a queue's pushes keep one-level (20-byte) positions for two billion pushes; between two items it takes
    /// the middle digit, or descends a level when the two are adjacent.
    /// </summary>
    public static byte[] Between(ReadOnlySpan<byte> lower, ReadOnlySpan<byte> upper, ulong site, ulong counter)
    {
        var result = new List<byte>(LevelLength);
        bool lowerTight = !lower.IsEmpty, upperTight = !upper.IsEmpty;
        for (int level = 0; ; level++)
        {
            int offset = level * LevelLength;
            bool hasLower = lowerTight && offset < lower.Length;
            bool hasUpper = upperTight && offset < upper.Length;
            ulong low = hasLower ? DigitAt(lower, offset) : 0;
            ulong high = hasUpper ? DigitAt(upper, offset) : DigitLimit;
            if (high - low >= 2)
            {
                uint digit = (hasLower, hasUpper) switch
                {
                    (false, false) => MiddleDigit,
                    (true, false) => (uint)(low + 1),
                    (false, true) => (uint)(high - 1),
                    _ => (uint)(low + ((high - low) / 2)),
                };
                AppendLevel(result, digit, site, counter);
                return [.. result];
            }

            if (hasLower)
            {
                // No digit fits between: keep the lower position's level and look for room one level down.
                ReadOnlySpan<byte> kept = lower.Slice(offset, LevelLength);
                result.AddRange(kept);
                upperTight = hasUpper && kept.SequenceEqual(upper.Slice(offset, LevelLength));
                continue;
            }

            if (high == 1)
            {
                // Digit 0 is below the upper level's 1: everything below this level is free.
                AppendLevel(result, 0, site, counter);
                upperTight = false;
                lowerTight = false;
                continue;
            }

            // The upper level has digit 0, so it is not the upper position's last: follow it down.
            result.AddRange(upper.Slice(offset, LevelLength));
            lowerTight = false;
        }
    }

    /// <summary>True for a name <see cref="Between"/> could have made: whole levels, the last one's digit at least 1.</summary>
    public static bool IsValid(ReadOnlySpan<byte> position) =>
        !position.IsEmpty && position.Length % LevelLength == 0 && DigitAt(position, position.Length - LevelLength) >= 1;

    private static ulong DigitAt(ReadOnlySpan<byte> position, int offset) => BinaryPrimitives.ReadUInt32BigEndian(position.Slice(offset, 4));

    private static void AppendLevel(List<byte> result, uint digit, ulong site, ulong counter)
    {
        Span<byte> level = stackalloc byte[LevelLength];
        BinaryPrimitives.WriteUInt32BigEndian(level, digit);
        BinaryPrimitives.WriteUInt64BigEndian(level[4..], site);
        BinaryPrimitives.WriteUInt64BigEndian(level[12..], counter);
        foreach (byte value in level)
        {
            result.Add(value);
        }
    }
}
