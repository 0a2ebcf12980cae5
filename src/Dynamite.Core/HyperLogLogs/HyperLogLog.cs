using System.Buffers.Binary;

namespace Dynamite.Core.HyperLogLogs;

/// <summary>
/// redis-server's HyperLogLog, byte for byte: a string value of a 16-byte header ("HYLL", the encoding, three zero
/// bytes, the cached cardinality with its top bit set while stale) and 16,384 6-bit registers, either dense (12,288
/// bytes) or sparse (runs: ZERO 00xxxxxx, XZERO 01xxxxxx xxxxxxxx, VAL 1vvvvvxx). Elements hash with MurmurHash64A, and
/// the count is Ertl's estimator as in Redis 7.0, so PFADD and PFCOUNT answer what redis-server answers for the same
/// elements. Registers only ever grow, and the union of two sketches is their register-wise maximum: a state-based
/// CRDT, which is how concurrent PFADDs through different nodes of a cluster merge (<see cref="TryMergeInto"/>).
/// Pure functions over byte arrays; a value that is not a valid sketch is refused, never read out of bounds.
/// </summary>
public static class HyperLogLog
{
    public const int RegisterCount = 1 << PrecisionBits;
    public const int HeaderSize = 16;
    public const int DenseSize = HeaderSize + (((RegisterCount * RegisterBits) + 7) / 8);

    /// <summary>redis-server's default <c>hll-sparse-max-bytes</c>: past it a sketch is stored dense.</summary>
    public const int SparseMaxBytes = 3000;

    private const int PrecisionBits = 14;
    private const int RegisterBits = 6;
    private const int RegisterMax = (1 << RegisterBits) - 1;
    private const int HashBitsCounted = 64 - PrecisionBits;
    private const byte DenseEncoding = 0;
    private const byte SparseEncoding = 1;
    private const int SparseValueMax = 32;
    private const int SparseValueRunMax = 4;
    private const int SparseZeroRunMax = 64;
    private const int SparseLongZeroRunMax = 16384;
    private const double AlphaInfinity = 0.721347520444481703680;

    /// <summary>A new, empty sketch, as PFADD creates it: sparse, all registers zero.</summary>
    public static byte[] Empty()
    {
        byte[] value = new byte[HeaderSize + 2];
        WriteHeader(value, SparseEncoding);
        int run = RegisterCount - 1;
        value[HeaderSize] = (byte)(0x40 | (run >> 8));
        value[HeaderSize + 1] = (byte)(run & 0xff);
        return value;
    }

    /// <summary>Whether a string value is a sketch (redis-server's type check): the magic, a known encoding, a dense one's exact size.</summary>
    public static bool IsSketch(ReadOnlySpan<byte> value) =>
        value.Length >= HeaderSize
        && value[..4].SequenceEqual("HYLL"u8)
        && value[4] <= SparseEncoding
        && (value[4] != DenseEncoding || value.Length == DenseSize);

    public static bool IsDense(ReadOnlySpan<byte> sketch) => sketch[4] == DenseEncoding;

    /// <summary>The register an element sets and the value it offers it (the length of its hash's "000...1" pattern).</summary>
    public static (int Register, byte Value) PatternOf(ReadOnlySpan<byte> element)
    {
        ulong hash = MurmurHash64A.Hash(element, 0xadc83b19);
        int register = (int)(hash & (RegisterCount - 1));
        hash >>= PrecisionBits;
        hash |= 1UL << HashBitsCounted;
        byte count = 1;
        for (ulong bit = 1; (hash & bit) == 0; bit <<= 1)
        {
            count++;
        }

        return (register, count);
    }

    /// <summary>
    /// Raises <paramref name="registers"/> (one byte per register) to the sketch's where they are lower; false when a
    /// sparse sketch is corrupt (its runs do not cover exactly every register).
    /// </summary>
    public static bool TryMergeInto(ReadOnlySpan<byte> sketch, Span<byte> registers)
    {
        ReadOnlySpan<byte> data = sketch[HeaderSize..];
        if (IsDense(sketch))
        {
            for (int i = 0; i < RegisterCount; i++)
            {
                registers[i] = Math.Max(registers[i], DenseRegister(data, i));
            }

            return true;
        }

        int index = 0;
        for (int p = 0; p < data.Length;)
        {
            if (!TryReadSparseRun(data, ref p, out int run, out int value, out _))
            {
                return false;
            }

            if (run > RegisterCount - index)
            {
                return false;
            }

            for (int end = index + run; index < end; index++)
            {
                registers[index] = (byte)Math.Max(registers[index], value);
            }
        }

        return index == RegisterCount;
    }

    /// <summary>
    /// Reads the sparse opcode at <paramref name="position"/> and moves past it: a run of <paramref name="length"/>
    /// registers of <paramref name="value"/>, and its kind (<c>z</c> ZERO, <c>Z</c> XZERO, <c>v</c> VAL); false when an
    /// XZERO is cut short by the end of the data.
    /// </summary>
    public static bool TryReadSparseRun(ReadOnlySpan<byte> data, ref int position, out int length, out int value, out char kind)
    {
        byte opcode = data[position];
        value = 0;
        if ((opcode & 0xc0) == 0)
        {
            (length, kind) = ((opcode & 0x3f) + 1, 'z');
            position++;
            return true;
        }

        if ((opcode & 0xc0) == 0x40)
        {
            kind = 'Z';
            if (position + 1 >= data.Length)
            {
                length = 0;
                return false;
            }

            length = (((opcode & 0x3f) << 8) | data[position + 1]) + 1;
            position += 2;
            return true;
        }

        (length, value, kind) = ((opcode & 0x3) + 1, ((opcode >> 2) & 0x1f) + 1, 'v');
        position++;
        return true;
    }

    /// <summary>
    /// Encodes registers as a sketch: sparse when <paramref name="dense"/> is false and every register fits a sparse run
    /// within <paramref name="sparseMaxBytes"/>, else dense. The cached cardinality comes from <paramref name="cacheFrom"/>
    /// (a sketch's header), marked stale when <paramref name="changed"/>.
    /// </summary>
    public static byte[] Encode(ReadOnlySpan<byte> registers, bool dense, ReadOnlySpan<byte> cacheFrom, bool changed, int sparseMaxBytes = SparseMaxBytes)
    {
        byte[]? sparse = dense ? null : TryEncodeSparse(registers, sparseMaxBytes);
        byte[] value = sparse ?? new byte[DenseSize];
        WriteHeader(value, sparse is null ? DenseEncoding : SparseEncoding);
        if (cacheFrom.Length >= HeaderSize)
        {
            cacheFrom[8..HeaderSize].CopyTo(value.AsSpan(8));
        }

        if (changed)
        {
            value[15] |= 0x80;
        }

        if (sparse is null)
        {
            Span<byte> data = value.AsSpan(HeaderSize);
            for (int i = 0; i < RegisterCount; i++)
            {
                if (registers[i] != 0)
                {
                    SetDenseRegister(data, i, registers[i]);
                }
            }
        }

        return value;
    }

    /// <summary>
    /// The union of sketches: their register-wise maximum, dense when any was dense, its cached count stale; null when
    /// one is not a valid sketch (the caller then keeps its own rule).
    /// </summary>
    public static byte[]? Union(IEnumerable<byte[]> sketches)
    {
        ArgumentNullException.ThrowIfNull(sketches);
        byte[] registers = new byte[RegisterCount];
        bool dense = false;
        byte[]? first = null;
        foreach (byte[] sketch in sketches)
        {
            if (!IsSketch(sketch) || !TryMergeInto(sketch, registers))
            {
                return null;
            }

            first ??= sketch;
            dense |= IsDense(sketch);
        }

        return first is null ? null : Encode(registers, dense, first, changed: true);
    }

    /// <summary>The cardinality a sketch's header caches; false when it is stale.</summary>
    public static bool TryReadCachedCount(ReadOnlySpan<byte> sketch, out long count)
    {
        count = (long)BinaryPrimitives.ReadUInt64LittleEndian(sketch[8..HeaderSize]);
        return (sketch[15] & 0x80) == 0;
    }

    /// <summary>The estimated number of distinct elements registers (one byte each) have seen: Ertl's estimator, as redis-server 7.0.</summary>
    public static long Count(ReadOnlySpan<byte> registers)
    {
        Span<int> histogram = stackalloc int[64];
        foreach (byte register in registers[..RegisterCount])
        {
            histogram[register & 63]++;
        }

        double m = RegisterCount;
        double z = m * Tau((m - histogram[HashBitsCounted + 1]) / m);
        for (int j = HashBitsCounted; j >= 1; j--)
        {
            z += histogram[j];
            z *= 0.5;
        }

        z += m * Sigma(histogram[0] / m);
        return (long)Math.Round(AlphaInfinity * m * m / z, MidpointRounding.AwayFromZero);
    }

    private static byte[]? TryEncodeSparse(ReadOnlySpan<byte> registers, int sparseMaxBytes)
    {
        var data = new List<byte>(64);
        for (int i = 0; i < RegisterCount;)
        {
            byte value = registers[i];
            if (value > SparseValueMax)
            {
                return null;
            }

            int run = 1;
            while (i + run < RegisterCount && registers[i + run] == value)
            {
                run++;
            }

            i += run;
            while (run > 0)
            {
                if (value != 0)
                {
                    int length = Math.Min(run, SparseValueRunMax);
                    data.Add((byte)(0x80 | ((value - 1) << 2) | (length - 1)));
                    run -= length;
                }
                else if (run > SparseZeroRunMax)
                {
                    int length = Math.Min(run, SparseLongZeroRunMax);
                    data.Add((byte)(0x40 | ((length - 1) >> 8)));
                    data.Add((byte)((length - 1) & 0xff));
                    run -= length;
                }
                else
                {
                    data.Add((byte)(run - 1));
                    run = 0;
                }
            }

            if (HeaderSize + data.Count > sparseMaxBytes)
            {
                return null;
            }
        }

        byte[] value2 = new byte[HeaderSize + data.Count];
        data.CopyTo(value2, HeaderSize);
        return value2;
    }

    private static void WriteHeader(Span<byte> value, byte encoding)
    {
        "HYLL"u8.CopyTo(value);
        value[4] = encoding;
    }

    private static byte DenseRegister(ReadOnlySpan<byte> data, int index)
    {
        int position = index * RegisterBits / 8;
        int shift = (index * RegisterBits) & 7;
        int low = data[position];
        int high = position + 1 < data.Length ? data[position + 1] : 0;
        return (byte)(((low >> shift) | (high << (8 - shift))) & RegisterMax);
    }

    private static void SetDenseRegister(Span<byte> data, int index, byte value)
    {
        int position = index * RegisterBits / 8;
        int shift = (index * RegisterBits) & 7;
        data[position] = (byte)((data[position] & ~(RegisterMax << shift)) | (value << shift));
        if (position + 1 < data.Length)
        {
            data[position + 1] = (byte)((data[position + 1] & ~(RegisterMax >> (8 - shift))) | (value >> (8 - shift)));
        }
    }

    private static double Sigma(double x)
    {
        if (x == 1.0)
        {
            return double.PositiveInfinity;
        }

        double y = 1;
        double z = x;
        double previous;
        do
        {
            x *= x;
            previous = z;
            z += x * y;
            y += y;
        }
        while (previous != z);
        return z;
    }

    private static double Tau(double x)
    {
        if (x == 0.0 || x == 1.0)
        {
            return 0.0;
        }

        double y = 1.0;
        double z = 1 - x;
        double previous;
        do
        {
            x = Math.Sqrt(x);
            previous = z;
            y *= 0.5;
            z -= Math.Pow(1 - x, 2) * y;
        }
        while (previous != z);
        return z / 3;
    }
}
