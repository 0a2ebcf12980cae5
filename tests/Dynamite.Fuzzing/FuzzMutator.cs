using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Dynamite.Fuzzing;

/// <summary>
/// A small mutation engine in the style of AFL/libFuzzer's havoc stage: each input is a corpus entry with a few
/// stacked mutations. All randomness comes from the caller's <see cref="Random"/>, so an input is reproducible from
/// the run seed and its index.
/// </summary>
public sealed class FuzzMutator
{
    /// <summary>Bytes that change how a parser branches: NUL, all-ones, and the RESP and framing punctuation.</summary>
    private static readonly byte[] InterestingBytes =
        [0x00, 0x01, 0x7F, 0x80, 0xFF, (byte)'\r', (byte)'\n', (byte)'*', (byte)'$', (byte)':', (byte)'-', (byte)'+',
            (byte)'0', (byte)'1', (byte)'9', (byte)' ', (byte)'"', (byte)'\'', (byte)'\\', (byte)'x'];

    /// <summary>Decimals around the edges of int, long and the limits a parser compares against.</summary>
    private static readonly string[] InterestingDecimals =
        ["0", "-0", "1", "-1", "-2", "2", "9", "10", "16", "64", "65", "1024", "4096", "65536", "1048576",
            "2147483647", "2147483648", "-2147483648", "-2147483649", "4294967295", "4294967296",
            "9223372036854775807", "9223372036854775808", "-9223372036854775808", "99999999999999999999999",
            "2000000000", "+5", " 5", "5 ", "", "0x10", "00000000000000000000000001"];

    private static readonly uint[] InterestingUInt32 =
        [0, 1, 2, 9, 10, 11, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF];

    private static readonly byte[][] RespTokens =
        [.. new[] { "\r\n", "*", "$", "$-1\r\n", "*-1\r\n", "*0\r\n", "$0\r\n\r\n", "\"", "'", "\\x", "\\xZZ", "\\\"", "\" \"", " ", "\t", "\n", "\r" }
            .Select(Encoding.ASCII.GetBytes)];

    /// <summary>An overlong varint (more continuation bytes than any 64-bit value needs) for the peer bodies' LEB128 fields.</summary>
    private static readonly byte[][] BinaryTokens =
        [[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], [0x80], [0xFF, 0xFF, 0xFF, 0xFF], [0xC3, 0x28], [0xED, 0xA0, 0x80]];

    private readonly IReadOnlyList<byte[]> _corpus;
    private readonly LengthFieldFormat _format;
    private readonly int _maxInputBytes;

    public FuzzMutator(IReadOnlyList<byte[]> corpus, LengthFieldFormat format, int maxInputBytes)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        if (corpus.Count == 0)
        {
            throw new ArgumentException("The seed corpus is empty.", nameof(corpus));
        }

        _corpus = corpus;
        _format = format;
        _maxInputBytes = maxInputBytes;
    }

    /// <summary>A corpus entry with 0 to 8 stacked mutations; one in sixteen is passed through unchanged so the seeds themselves stay covered.</summary>
    public byte[] Next(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var input = new List<byte>(_corpus[random.Next(_corpus.Count)]);
        if (random.Next(16) != 0)
        {
            int mutations = 1 + random.Next(random.Next(2) == 0 ? 2 : 8);
            for (int i = 0; i < mutations; i++)
            {
                Mutate(input, random);
            }
        }

        if (input.Count > _maxInputBytes)
        {
            input.RemoveRange(_maxInputBytes, input.Count - _maxInputBytes);
        }

        return [.. input];
    }

    private void Mutate(List<byte> input, Random random)
    {
        switch (random.Next(11))
        {
            case 0 when input.Count > 0:
                int bit = random.Next(input.Count * 8);
                input[bit / 8] ^= (byte)(1 << (bit % 8));
                break;
            case 1 when input.Count > 0:
                input[random.Next(input.Count)] = InterestingBytes[random.Next(InterestingBytes.Length)];
                break;
            case 2 when input.Count > 0:
                input[random.Next(input.Count)] = (byte)random.Next(256);
                break;
            case 3:
                input.InsertRange(random.Next(input.Count + 1), RandomChunk(random));
                break;
            case 4 when input.Count > 0:
                int start = random.Next(input.Count);
                input.RemoveRange(start, random.Next(1, Math.Min(input.Count - start, 32) + 1));
                break;
            case 5 when input.Count > 0:
                int from = random.Next(input.Count);
                byte[] copy = [.. input.GetRange(from, random.Next(1, Math.Min(input.Count - from, 64) + 1))];
                int times = random.Next(4) == 0 ? random.Next(2, 16) : 1;
                for (int i = 0; i < times; i++)
                {
                    input.InsertRange(random.Next(input.Count + 1), copy);
                }

                break;
            case 6:
                Splice(input, random);
                break;
            case 7:
            case 8:
                MutateLengthField(input, random);
                break;
            case 9 when input.Count > 0:
                int cut = random.Next(input.Count);
                input.RemoveRange(cut, input.Count - cut);
                break;
            case 10:
                byte[][] tokens = _format == LengthFieldFormat.RespDecimal ? RespTokens : BinaryTokens;
                input.InsertRange(random.Next(input.Count + 1), tokens[random.Next(tokens.Length)]);
                break;
            default:
                input.Add(InterestingBytes[random.Next(InterestingBytes.Length)]);
                break;
        }
    }

    private static byte[] RandomChunk(Random random)
    {
        byte[] chunk = new byte[random.Next(1, 17)];
        if (random.Next(2) == 0)
        {
            random.NextBytes(chunk);
        }
        else
        {
            for (int i = 0; i < chunk.Length; i++)
            {
                chunk[i] = InterestingBytes[random.Next(InterestingBytes.Length)];
            }
        }

        return chunk;
    }

    /// <summary>Joins this input with another corpus entry: either its prefix with the other's suffix, or the whole other entry appended (a pipelined batch).</summary>
    private void Splice(List<byte> input, Random random)
    {
        byte[] other = _corpus[random.Next(_corpus.Count)];
        if (random.Next(2) == 0)
        {
            input.AddRange(other);
            return;
        }

        int cut = random.Next(input.Count + 1);
        input.RemoveRange(cut, input.Count - cut);
        input.AddRange(other.AsSpan(random.Next(other.Length + 1)));
    }

    private void MutateLengthField(List<byte> input, Random random)
    {
        if (_format == LengthFieldFormat.RespDecimal)
        {
            MutateRespLength(input, random);
        }
        else
        {
            MutateBigEndianLength(input, random);
        }
    }

    /// <summary>Replaces the digits after a '*' or '$' with an edge-case decimal; with no marker, inserts a new header.</summary>
    private static void MutateRespLength(List<byte> input, Random random)
    {
        string number = random.Next(4) == 0
            ? random.Next(-5, 100_000).ToString(CultureInfo.InvariantCulture)
            : InterestingDecimals[random.Next(InterestingDecimals.Length)];
        byte[] digits = Encoding.ASCII.GetBytes(number);
        var markers = new List<int>();
        for (int i = 0; i < input.Count; i++)
        {
            if (input[i] is (byte)'*' or (byte)'$')
            {
                markers.Add(i);
            }
        }

        if (markers.Count == 0)
        {
            byte[] header = [(byte)(random.Next(2) == 0 ? '*' : '$'), .. digits, (byte)'\r', (byte)'\n'];
            input.InsertRange(random.Next(input.Count + 1), header);
            return;
        }

        int start = markers[random.Next(markers.Count)] + 1;
        int end = start;
        while (end < input.Count && (input[end] is (>= (byte)'0' and <= (byte)'9') or (byte)'-' or (byte)'+'))
        {
            end++;
        }

        input.RemoveRange(start, end - start);
        input.InsertRange(start, digits);
    }

    /// <summary>Overwrites a big-endian u32: half the time the frame's own length prefix, else a random offset (which may be a payload length prefix).</summary>
    private static void MutateBigEndianLength(List<byte> input, Random random)
    {
        if (input.Count < 4)
        {
            return;
        }

        int offset = random.Next(2) == 0 ? 0 : random.Next(input.Count - 3);
        Span<byte> field = stackalloc byte[4];
        for (int i = 0; i < 4; i++)
        {
            field[i] = input[offset + i];
        }

        uint current = BinaryPrimitives.ReadUInt32BigEndian(field);
        uint value = random.Next(4) switch
        {
            0 => current + (uint)random.Next(1, 5),
            1 => current - (uint)random.Next(1, 5),
            2 => (uint)random.Next(0, input.Count + 16),
            _ => InterestingUInt32[random.Next(InterestingUInt32.Length)],
        };
        BinaryPrimitives.WriteUInt32BigEndian(field, value);
        for (int i = 0; i < 4; i++)
        {
            input[offset + i] = field[i];
        }
    }
}
