namespace Dynamite.Core.Bitmaps;

/// <summary>
/// Reads and writes bit fields in a string as Redis numbers them: bit 0 is the most significant bit of byte 0, and a
/// field's first bit is its most significant. Bits past the string's end read as 0.
/// </summary>
public static class BitField
{
    /// <summary>The unsigned value of the <paramref name="width"/> bits (1 to 64) from <paramref name="bitOffset"/>.</summary>
    public static ulong Read(ReadOnlySpan<byte> bytes, long bitOffset, int width)
    {
        ulong value = 0;
        for (int i = 0; i < width; i++)
        {
            value = (value << 1) | (GetBit(bytes, bitOffset + i) ? 1UL : 0UL);
        }

        return value;
    }

    /// <summary>Writes the low <paramref name="width"/> bits of <paramref name="value"/>; the span must reach the field's last byte.</summary>
    public static void Write(Span<byte> bytes, long bitOffset, int width, ulong value)
    {
        for (int i = 0; i < width; i++)
        {
            SetBit(bytes, bitOffset + i, ((value >> (width - 1 - i)) & 1) != 0);
        }
    }

    public static bool GetBit(ReadOnlySpan<byte> bytes, long bitOffset)
    {
        long index = bitOffset >> 3;
        return index < bytes.Length && (bytes[(int)index] & (0x80 >> (int)(bitOffset & 7))) != 0;
    }

    public static void SetBit(Span<byte> bytes, long bitOffset, bool on)
    {
        int index = (int)(bitOffset >> 3);
        int mask = 0x80 >> (int)(bitOffset & 7);
        bytes[index] = (byte)(on ? bytes[index] | mask : bytes[index] & ~mask);
    }

    /// <summary>How many bytes a string needs to hold bits up to <paramref name="bitOffset"/> + <paramref name="width"/>.</summary>
    public static long BytesToHold(long bitOffset, int width) => (bitOffset + width + 7) >> 3;
}
