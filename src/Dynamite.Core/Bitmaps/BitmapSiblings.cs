using Dynamite.Core.Versioning;

namespace Dynamite.Core.Bitmaps;

/// <summary>
/// The conflict rule of a string written by bit commands (docs/DATA-TYPES.md, "Bitmaps"): when every live sibling
/// of a key was written by SETBIT or BITFIELD, a read joins them instead of keeping the last writer's string. The
/// join is the bitwise OR of the siblings (as long as the longest), then every sibling's own fields replayed in
/// last-writer order, so that concurrent writes of different bits all survive and, for a bit or field two of them
/// wrote, the later write's value wins. Bits no concurrent write touched but on which the siblings disagree (one
/// read an older value than the other) come out set: a bit cleared concurrently with other bit writes to the key
/// can reappear, the add-wins choice of an observed-remove set. Pure, and the same on every node for the same siblings.
/// </summary>
public static class BitmapSiblings
{
    /// <summary>The joined string, or null when the rule does not apply (fewer than two siblings, or one not written by a bit command).</summary>
    public static byte[]? TryJoin(IReadOnlyList<Sibling> live)
    {
        if (live.Count < 2)
        {
            return null;
        }

        int length = 0;
        foreach (Sibling sibling in live)
        {
            if (sibling.BitPatches is null || sibling.Value is null)
            {
                return null;
            }

            length = Math.Max(length, sibling.Value.Length);
        }

        byte[] joined = new byte[length];
        foreach (Sibling sibling in live)
        {
            byte[] value = sibling.Value!;
            for (int i = 0; i < value.Length; i++)
            {
                joined[i] |= value[i];
            }
        }

        Sibling[] ordered = [.. live];
        Array.Sort(ordered, VersionedObject.CompareWriteOrder);
        var patches = new List<BitPatch>();
        foreach (Sibling sibling in ordered)
        {
            patches.Clear();
            if (!BitPatches.TryDecode(sibling.BitPatches, patches))
            {
                return null;
            }

            foreach (BitPatch patch in patches)
            {
                // A sibling's own string holds its fields, so they fit the join; a corrupt patch past it is skipped.
                if (BitField.BytesToHold(patch.BitOffset, patch.Width) <= length)
                {
                    BitField.Write(joined, patch.BitOffset, patch.Width, patch.Value);
                }
            }
        }

        return joined;
    }
}
