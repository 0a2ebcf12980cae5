using Dynamite.Core.Bitmaps;

namespace Dynamite.Protocols.Resp.Commands.BitmapOperations;

/// <summary>
/// A BITFIELD command's subcommands, parsed with redis-server's rules and errors (bitops.c), and run over a string:
/// fields are signed (i1 to i64) or unsigned (u1 to u63), offsets are bits or, written <c>#n</c>, n times the field's
/// width; SET answers the old value, INCRBY the new one, and OVERFLOW WRAP (the default), SAT or FAIL (a nil reply,
/// nothing written) applies to the SETs and INCRBYs after it.
/// </summary>
internal sealed class BitFieldProgram
{
    private const string TypeError = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

    private BitFieldProgram(BitFieldStep[] steps)
    {
        Steps = steps;
        foreach (BitFieldStep step in steps)
        {
            if (step.Opcode != BitFieldOpcode.Get)
            {
                IsReadOnly = false;
                HighestWrittenBit = Math.Max(HighestWrittenBit, step.Offset + step.Bits - 1);
            }
        }
    }

    public IReadOnlyList<BitFieldStep> Steps { get; }

    /// <summary>Only GETs: the command is a read.</summary>
    public bool IsReadOnly { get; } = true;

    /// <summary>The last bit a SET or INCRBY reaches; the string is padded to hold it.</summary>
    public long HighestWrittenBit { get; } = -1;

    /// <summary>Parses the arguments after the key; null with <paramref name="error"/> for what redis-server refuses.</summary>
    public static BitFieldProgram? Parse(CommandContext context, long maxValueBytes, out string? error)
    {
        var steps = new List<BitFieldStep>();
        BitFieldOverflow overflow = BitFieldOverflow.Wrap;
        for (int i = 2; i < context.ArgumentCount; i++)
        {
            int remaining = context.ArgumentCount - i - 1;
            BitFieldOpcode opcode;
            if (context.ArgumentIs(i, "GET") && remaining >= 2)
            {
                opcode = BitFieldOpcode.Get;
            }
            else if (context.ArgumentIs(i, "SET") && remaining >= 3)
            {
                opcode = BitFieldOpcode.Set;
            }
            else if (context.ArgumentIs(i, "INCRBY") && remaining >= 3)
            {
                opcode = BitFieldOpcode.IncrBy;
            }
            else if (context.ArgumentIs(i, "OVERFLOW") && remaining >= 1)
            {
                i++;
                if (context.ArgumentIs(i, "WRAP"))
                {
                    overflow = BitFieldOverflow.Wrap;
                }
                else if (context.ArgumentIs(i, "SAT"))
                {
                    overflow = BitFieldOverflow.Saturate;
                }
                else if (context.ArgumentIs(i, "FAIL"))
                {
                    overflow = BitFieldOverflow.Fail;
                }
                else
                {
                    error = "ERR Invalid OVERFLOW type specified";
                    return null;
                }

                continue;
            }
            else
            {
                error = RespErrors.Syntax;
                return null;
            }

            if (!TryParseType(context.Argument(i + 1), out bool signed, out int bits))
            {
                error = TypeError;
                return null;
            }

            if (!BitmapArguments.TryParseOffset(context.Argument(i + 2), bits, maxValueBytes, out long offset))
            {
                error = BitmapArguments.OffsetError;
                return null;
            }

            long argument = 0;
            if (opcode != BitFieldOpcode.Get && !RespNumbers.TryParseInt64(context.Argument(i + 3), out argument))
            {
                error = RespErrors.NotInteger;
                return null;
            }

            steps.Add(new BitFieldStep(opcode, offset, bits, signed, argument, overflow));
            i += opcode == BitFieldOpcode.Get ? 2 : 3;
        }

        error = null;
        return new BitFieldProgram([.. steps]);
    }

    /// <summary>Runs the steps over <paramref name="bytes"/> (padded to hold every written field); null replies are FAILed overflows.</summary>
    public long?[] Run(Span<byte> bytes, List<BitPatch>? written, out bool changed)
    {
        changed = false;
        var replies = new long?[Steps.Count];
        for (int i = 0; i < replies.Length; i++)
        {
            BitFieldStep step = Steps[i];
            if (step.Opcode == BitFieldOpcode.Get)
            {
                replies[i] = Read(bytes, step);
                continue;
            }

            ulong old = BitField.Read(bytes, step.Offset, step.Bits);
            (bool overflowed, ulong stored, long reply) = step.Signed ? Signed(step, old) : Unsigned(step, old);
            if (overflowed && step.Overflow == BitFieldOverflow.Fail)
            {
                replies[i] = null;
                continue;
            }

            BitField.Write(bytes, step.Offset, step.Bits, stored);
            written?.Add(new BitPatch(step.Offset, step.Bits, stored & Mask(step.Bits)));
            changed |= (old & Mask(step.Bits)) != (stored & Mask(step.Bits));
            replies[i] = reply;
        }

        return replies;
    }

    /// <summary>A GET: the field's value, sign-extended for a signed field.</summary>
    public static long Read(ReadOnlySpan<byte> bytes, BitFieldStep step)
    {
        ulong value = BitField.Read(bytes, step.Offset, step.Bits);
        return step.Signed ? SignExtend(value, step.Bits) : (long)value;
    }

    private static (bool Overflowed, ulong Stored, long Reply) Unsigned(BitFieldStep step, ulong old)
    {
        ulong max = Mask(step.Bits);
        if (step.Opcode == BitFieldOpcode.IncrBy)
        {
            int overflow = UnsignedOverflow(old, step.Argument, max, step.Overflow, out ulong limit);
            ulong updated = overflow != 0 ? limit : unchecked(old + (ulong)step.Argument);
            return (overflow != 0, updated, (long)updated);
        }

        ulong value = unchecked((ulong)step.Argument);
        int setOverflow = UnsignedOverflow(value, 0, max, step.Overflow, out ulong setLimit);
        return (setOverflow != 0, setOverflow != 0 ? setLimit : value, (long)old);
    }

    private static (bool Overflowed, ulong Stored, long Reply) Signed(BitFieldStep step, ulong oldBits)
    {
        long old = SignExtend(oldBits, step.Bits);
        if (step.Opcode == BitFieldOpcode.IncrBy)
        {
            int overflow = SignedOverflow(old, step.Argument, step.Bits, step.Overflow, out long limit);
            long updated = overflow != 0 ? limit : unchecked(old + step.Argument);
            return (overflow != 0, unchecked((ulong)updated), updated);
        }

        int setOverflow = SignedOverflow(step.Argument, 0, step.Bits, step.Overflow, out long setLimit);
        return (setOverflow != 0, unchecked((ulong)(setOverflow != 0 ? setLimit : step.Argument)), old);
    }

    /// <summary>redis-server's checkUnsignedBitfieldOverflow: 1 over, -1 under, 0 in range; <paramref name="limit"/> is what WRAP or SAT stores.</summary>
    private static int UnsignedOverflow(ulong value, long increment, ulong max, BitFieldOverflow overflow, out ulong limit)
    {
        long maxIncrement = unchecked((long)(max - value));
        long minIncrement = unchecked(-(long)value);
        limit = 0;
        int result;
        if (value > max || (increment > 0 && increment > maxIncrement))
        {
            result = 1;
            limit = max;
        }
        else if (increment < 0 && increment < minIncrement)
        {
            result = -1;
            limit = 0;
        }
        else
        {
            return 0;
        }

        if (overflow == BitFieldOverflow.Wrap)
        {
            limit = unchecked(value + (ulong)increment) & max;
        }

        return result;
    }

    /// <summary>redis-server's checkSignedBitfieldOverflow (see <see cref="UnsignedOverflow"/>).</summary>
    private static int SignedOverflow(long value, long increment, int bits, BitFieldOverflow overflow, out long limit)
    {
        long max = bits == 64 ? long.MaxValue : (1L << (bits - 1)) - 1;
        long min = -max - 1;
        long maxIncrement = unchecked((long)((ulong)max - (ulong)value));
        long minIncrement = unchecked(min - value);
        limit = 0;
        int result;
        if (value > max || (bits != 64 && increment > maxIncrement) || (value >= 0 && increment > 0 && increment > maxIncrement))
        {
            result = 1;
            limit = max;
        }
        else if (value < min || (bits != 64 && increment < minIncrement) || (value < 0 && increment < 0 && increment < minIncrement))
        {
            result = -1;
            limit = min;
        }
        else
        {
            return 0;
        }

        if (overflow == BitFieldOverflow.Wrap)
        {
            ulong sum = unchecked((ulong)value + (ulong)increment);
            if (bits < 64)
            {
                ulong high = ulong.MaxValue << bits;
                sum = (sum & (1UL << (bits - 1))) != 0 ? sum | high : sum & ~high;
            }

            limit = unchecked((long)sum);
        }

        return result;
    }

    private static ulong Mask(int bits) => bits == 64 ? ulong.MaxValue : (1UL << bits) - 1;

    private static long SignExtend(ulong value, int bits) =>
        bits < 64 && (value & (1UL << (bits - 1))) != 0 ? unchecked((long)(value | (ulong.MaxValue << bits))) : unchecked((long)value);

    private static bool TryParseType(ReadOnlySpan<byte> text, out bool signed, out int bits)
    {
        signed = text.Length > 0 && (text[0] == 'i' || text[0] == 'I');
        bits = 0;
        if (text.Length < 2 || (text[0] is not ((byte)'i' or (byte)'u')) || !RespNumbers.TryParseInt64(text[1..], out long width))
        {
            return false;
        }

        if (width < 1 || width > (signed ? 64 : 63))
        {
            return false;
        }

        bits = (int)width;
        return true;
    }
}
