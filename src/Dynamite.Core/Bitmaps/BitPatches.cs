using Dynamite.Core.Wire;

namespace Dynamite.Core.Bitmaps;

/// <summary>
/// The binary form of the fields one bit command wrote (<see cref="Versioning.Sibling.BitPatches"/>): per field a
/// varint bit offset, one byte of width (1 to 64) and a varint value. Kept beside the value a SETBIT or BITFIELD
/// wrote on a cluster node, so that a read meeting concurrent bit writes can replay each one's own bits
/// (<see cref="BitmapSiblings"/>) instead of keeping only the last writer's whole string.
/// </summary>
public static class BitPatches
{
    public static byte[] Encode(ReadOnlySpan<BitPatch> patches)
    {
        int size = 0;
        foreach (BitPatch patch in patches)
        {
            size += WireWriter.SizeOfVarUInt64((ulong)patch.BitOffset) + 1 + WireWriter.SizeOfVarUInt64(patch.Value);
        }

        byte[] output = new byte[size];
        var writer = new WireWriter(output);
        foreach (BitPatch patch in patches)
        {
            writer.WriteVarUInt64((ulong)patch.BitOffset);
            writer.WriteByte((byte)patch.Width);
            writer.WriteVarUInt64(patch.Value);
        }

        return output;
    }

    /// <summary>Decodes <see cref="Encode"/>'s output; false for anything else (a read then falls back to the last writer).</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoded, List<BitPatch> patches)
    {
        try
        {
            var reader = new WireReader(encoded);
            while (reader.Remaining > 0)
            {
                ulong offset = reader.ReadVarUInt64();
                int width = reader.ReadByte();
                ulong value = reader.ReadVarUInt64();
                if (width is < 1 or > 64 || offset > long.MaxValue - 64)
                {
                    return false;
                }

                patches.Add(new BitPatch((long)offset, width, value));
            }

            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
