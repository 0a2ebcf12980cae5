namespace Dynamite.Core.Partitioning;

/// <summary>
/// A key's Redis Cluster hash slot (https://redis.io/docs/reference/cluster-spec/, "Key distribution model"):
/// CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0, no reflection) of the key modulo 16,384, or of its hash tag,
/// the bytes between the first <c>{</c> and the first <c>}</c> after it, when there are any. Keys sharing a tag share a
/// slot, which is what lets a client send a transaction or a script over several keys to one node. Written here: .NET
/// has no CRC16, and the 256-entry table below is the whole algorithm (the same one redis-server's crc16.c tabulates).
/// </summary>
public static class HashSlot
{
    /// <summary>Redis Cluster's slot count.</summary>
    public const int Count = 16384;

    /// <summary>Bits of a slot number (2^14 = <see cref="Count"/>).</summary>
    public const int Bits = 14;

    private static readonly ushort[] Table = BuildTable();

    public static int Of(ReadOnlySpan<byte> key)
    {
        int open = key.IndexOf((byte)'{');
        if (open >= 0)
        {
            int close = key[(open + 1)..].IndexOf((byte)'}');
            if (close > 0)
            {
                key = key.Slice(open + 1, close);
            }
        }

        return Crc16(key) & (Count - 1);
    }

    /// <summary>True when every key hashes to one slot, or there are none (Redis Cluster's rule for a multi-key request).</summary>
    public static bool AllInOne(IEnumerable<byte[]> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        int slot = -1;
        foreach (byte[] key in keys)
        {
            int keySlot = Of(key);
            if (slot >= 0 && slot != keySlot)
            {
                return false;
            }

            slot = keySlot;
        }

        return true;
    }

    /// <summary>CRC16-CCITT (XMODEM) of <paramref name="data"/>: 0x31C3 for "123456789".</summary>
    public static ushort Crc16(ReadOnlySpan<byte> data)
    {
        ushort crc = 0;
        foreach (byte value in data)
        {
            crc = (ushort)((crc << 8) ^ Table[((crc >> 8) ^ value) & 0xFF]);
        }

        return crc;
    }

    private static ushort[] BuildTable()
    {
        var table = new ushort[256];
        for (int i = 0; i < 256; i++)
        {
            int crc = i << 8;
            for (int bit = 0; bit < 8; bit++)
            {
                crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
            }

            table[i] = (ushort)crc;
        }

        return table;
    }
}
