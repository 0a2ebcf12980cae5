using System.Buffers.Binary;

namespace Dynamite.Core.HyperLogLogs;

/// <summary>
/// MurmurHash2, 64-bit version, as redis-server's HyperLogLog hashes elements (its endian-neutral variant: 8-byte
/// blocks read little-endian), so the same element sets the same register on both.
/// </summary>
public static class MurmurHash64A
{
    public static ulong Hash(ReadOnlySpan<byte> data, uint seed)
    {
        const ulong M = 0xc6a4a7935bd1e995;
        const int R = 47;
        ulong h = seed ^ ((ulong)data.Length * M);
        int blocks = data.Length - (data.Length & 7);
        for (int i = 0; i < blocks; i += 8)
        {
            ulong k = BinaryPrimitives.ReadUInt64LittleEndian(data[i..]);
            k *= M;
            k ^= k >> R;
            k *= M;
            h ^= k;
            h *= M;
        }

        ReadOnlySpan<byte> tail = data[blocks..];
        if (tail.Length > 0)
        {
            for (int i = tail.Length - 1; i >= 0; i--)
            {
                h ^= (ulong)tail[i] << (8 * i);
            }

            h *= M;
        }

        h ^= h >> R;
        h *= M;
        h ^= h >> R;
        return h;
    }
}
