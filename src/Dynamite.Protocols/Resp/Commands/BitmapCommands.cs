using System.Numerics;
using System.Runtime.InteropServices;
using Dynamite.Core.KeyValue;
using Dynamite.Protocols.Resp.Commands.BitmapOperations;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and BITFIELD_RO over strings, with redis-server's argument
/// order, replies and errors (bitops.c): bit 0 is the most significant bit of the first byte. On a cluster the writes
/// name the bits they set, so concurrent SETBITs and BITFIELD SETs of different bits through different nodes all
/// survive (docs/DATA-TYPES.md, "Bitmaps").
/// </summary>
internal static class BitmapCommands
{
    private const string BitValueError = "ERR bit is not an integer or out of range";

    public static IEnumerable<CommandDefinition> Definitions =>
    [
        new("SETBIT", 4, CommandFlags.Write | CommandFlags.DenyOom, 1, 1, 1, "bitmap", "2.2.0", "Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist.", SetBit),
        new("GETBIT", 3, CommandFlags.ReadOnly | CommandFlags.Fast, 1, 1, 1, "bitmap", "2.2.0", "Returns a bit value by offset.", GetBit),
        new("BITCOUNT", -2, CommandFlags.ReadOnly, 1, 1, 1, "bitmap", "2.6.0", "Counts the number of set bits (population counting) in a string.", BitCount),
        new("BITPOS", -3, CommandFlags.ReadOnly, 1, 1, 1, "bitmap", "2.8.7", "Finds the first set (1) or clear (0) bit in a string.", BitPos),
        new("BITOP", -4, CommandFlags.Write | CommandFlags.DenyOom, 2, -1, 1, "bitmap", "2.6.0", "Performs bitwise operations on multiple strings, and stores the result.", BitOp),
        new("BITFIELD", -2, CommandFlags.Write | CommandFlags.DenyOom, 1, 1, 1, "bitmap", "3.2.0", "Performs arbitrary bitfield integer operations on strings.", BitFieldCommand),
        new("BITFIELD_RO", -2, CommandFlags.ReadOnly | CommandFlags.Fast, 1, 1, 1, "bitmap", "6.0.0", "Performs arbitrary read-only bitfield integer operations on strings.", BitFieldReadOnly),
    ];

    private static ValueTask SetBit(CommandContext context)
    {
        if (!BitmapArguments.TryParseOffset(context.Argument(2), 0, context.Server.Options.Limits.MaxValueBytes, out long offset))
        {
            return context.Error(BitmapArguments.OffsetError);
        }

        if (!RespNumbers.TryParseInt64(context.Argument(3), out long on) || (on & ~1L) != 0)
        {
            return context.Error(BitValueError);
        }

        var operation = new SetBitOperation(context.OwnedArgument(1), offset, on == 1);
        return context.Apply(operation, static (c, op) =>
        {
            if (op.WrongType)
            {
                c.Writer.WriteError(RespErrors.WrongType);
            }
            else
            {
                c.Writer.WriteInteger(op.WasOn ? 1 : 0);
            }
        });
    }

    private static ValueTask GetBit(CommandContext context)
    {
        if (!BitmapArguments.TryParseOffset(context.Argument(2), 0, context.Server.Options.Limits.MaxValueBytes, out _))
        {
            return context.Error(BitmapArguments.OffsetError);
        }

        return context.ReadKeys(1, 1, 1, static (c, results) =>
        {
            if (TryWriteWrongType(c, results[0]))
            {
                return;
            }

            BitmapArguments.TryParseOffset(c.Argument(2), 0, c.Server.Options.Limits.MaxValueBytes, out long offset);
            c.Writer.WriteInteger(results[0].Found && Core.Bitmaps.BitField.GetBit(results[0].Record.Value, offset) ? 1 : 0);
        });
    }

    private static ValueTask BitCount(CommandContext context) =>
        context.ReadKeys(1, 1, 1, static (c, results) =>
        {
            // As redis-server: a missing key answers 0 and a wrong type its error before the range is parsed.
            if (!results[0].Found)
            {
                c.Writer.WriteInteger(0);
                return;
            }

            if (TryWriteWrongType(c, results[0]))
            {
                return;
            }

            byte[] value = results[0].Record.Value;
            if (c.ArgumentCount == 2)
            {
                c.Writer.WriteInteger(PopCount(value));
                return;
            }

            if (c.ArgumentCount is not (4 or 5))
            {
                c.Writer.WriteError(RespErrors.Syntax);
                return;
            }

            if (!RespNumbers.TryParseInt64(c.Argument(2), out long start) || !RespNumbers.TryParseInt64(c.Argument(3), out long end))
            {
                c.Writer.WriteError(RespErrors.NotInteger);
                return;
            }

            if (start < 0 && end < 0 && start > end)
            {
                c.Writer.WriteInteger(0);
                return;
            }

            if (!TryParseUnit(c, 4, out bool inBits))
            {
                return;
            }

            (start, end) = Clamp(start, end, inBits ? (long)value.Length << 3 : value.Length);
            if (start > end)
            {
                c.Writer.WriteInteger(0);
            }
            else if (!inBits)
            {
                c.Writer.WriteInteger(PopCount(value.AsSpan((int)start, (int)(end - start + 1))));
            }
            else
            {
                long count = 0;
                for (long bit = start; bit <= end && (bit & 7) != 0; bit++)
                {
                    count += Core.Bitmaps.BitField.GetBit(value, bit) ? 1 : 0;
                    start = bit + 1;
                }

                for (; start <= end && end - start >= 7; start += 8)
                {
                    count += BitOperations.PopCount(value[(int)(start >> 3)]);
                }

                for (long bit = start; bit <= end; bit++)
                {
                    count += Core.Bitmaps.BitField.GetBit(value, bit) ? 1 : 0;
                }

                c.Writer.WriteInteger(count);
            }
        });

    private static ValueTask BitPos(CommandContext context)
    {
        if (!RespNumbers.TryParseInt64(context.Argument(2), out long bit))
        {
            return context.Error(RespErrors.NotInteger);
        }

        if (bit is not (0 or 1))
        {
            return context.Error("ERR The bit argument must be 1 or 0.");
        }

        return context.ReadKeys(1, 1, 1, static (c, results) =>
        {
            bool lookingFor = c.Argument(2).SequenceEqual("1"u8);
            if (!results[0].Found)
            {
                // A missing key is an endless run of zero bits.
                c.Writer.WriteInteger(lookingFor ? -1 : 0);
                return;
            }

            if (TryWriteWrongType(c, results[0]))
            {
                return;
            }

            byte[] value = results[0].Record.Value;
            long start = 0, end;
            bool inBits = false, endGiven = false;
            if (c.ArgumentCount == 3)
            {
                end = value.Length - 1;
            }
            else if (c.ArgumentCount <= 6)
            {
                if (!RespNumbers.TryParseInt64(c.Argument(3), out start))
                {
                    c.Writer.WriteError(RespErrors.NotInteger);
                    return;
                }

                if (!TryParseUnit(c, 5, out inBits))
                {
                    return;
                }

                long total = inBits ? (long)value.Length << 3 : value.Length;
                if (c.ArgumentCount >= 5)
                {
                    if (!RespNumbers.TryParseInt64(c.Argument(4), out end))
                    {
                        c.Writer.WriteError(RespErrors.NotInteger);
                        return;
                    }

                    endGiven = true;
                }
                else
                {
                    end = total - 1;
                }

                (start, end) = Clamp(start, end, total);
            }
            else
            {
                c.Writer.WriteError(RespErrors.Syntax);
                return;
            }

            if (start > end)
            {
                c.Writer.WriteInteger(-1);
                return;
            }

            long firstBit = inBits ? start : start << 3;
            long lastBit = inBits ? end : (end << 3) + 7;
            for (long position = firstBit; position <= lastBit; position++)
            {
                if ((position & 7) == 0 && lastBit - position >= 7)
                {
                    byte b = value[(int)(position >> 3)];
                    if (b == (lookingFor ? 0 : 0xFF))
                    {
                        position += 7;
                        continue;
                    }
                }

                if (Core.Bitmaps.BitField.GetBit(value, position) == lookingFor)
                {
                    c.Writer.WriteInteger(position);
                    return;
                }
            }

            // Looking for a clear bit with no end given, the string continues with zero bits past its end.
            c.Writer.WriteInteger(!lookingFor && !endGiven ? lastBit + 1 : -1);
        });
    }

    private static ValueTask BitOp(CommandContext context)
    {
        BitOperator op;
        if (context.ArgumentIs(1, "AND"))
        {
            op = BitOperator.And;
        }
        else if (context.ArgumentIs(1, "OR"))
        {
            op = BitOperator.Or;
        }
        else if (context.ArgumentIs(1, "XOR"))
        {
            op = BitOperator.Xor;
        }
        else if (context.ArgumentIs(1, "NOT"))
        {
            op = BitOperator.Not;
        }
        else
        {
            return context.SyntaxError();
        }

        if (op == BitOperator.Not && context.ArgumentCount != 4)
        {
            return context.Error("ERR BITOP NOT must be called with a single source key.");
        }

        byte[][] sources = [.. Enumerable.Range(3, context.ArgumentCount - 3).Select(context.OwnedArgument)];
        var operation = new BitOpOperation(op, context.OwnedArgument(2), sources);
        return context.Apply(operation, static (c, o) =>
        {
            if (o.WrongType)
            {
                c.Writer.WriteError(RespErrors.WrongType);
            }
            else
            {
                c.Writer.WriteInteger(o.Length);
            }
        });
    }

    private static ValueTask BitFieldCommand(CommandContext context) => BitFieldGeneric(context, readOnlyCommand: false);

    private static ValueTask BitFieldReadOnly(CommandContext context) => BitFieldGeneric(context, readOnlyCommand: true);

    private static ValueTask BitFieldGeneric(CommandContext context, bool readOnlyCommand)
    {
        BitFieldProgram? program = BitFieldProgram.Parse(context, context.Server.Options.Limits.MaxValueBytes, out string? error);
        if (program is null)
        {
            return context.Error(error!);
        }

        if (program.IsReadOnly)
        {
            return context.ReadKeys(1, 1, 1, static (c, results) =>
            {
                if (TryWriteWrongType(c, results[0]))
                {
                    return;
                }

                BitFieldProgram steps = BitFieldProgram.Parse(c, c.Server.Options.Limits.MaxValueBytes, out _)!;
                byte[] value = results[0].Found ? results[0].Record.Value : [];
                c.Writer.WriteArrayHeader(steps.Steps.Count);
                foreach (BitFieldStep step in steps.Steps)
                {
                    c.Writer.WriteInteger(BitFieldProgram.Read(value, step));
                }
            });
        }

        if (readOnlyCommand)
        {
            return context.Error("ERR BITFIELD_RO only supports the GET subcommand");
        }

        var operation = new BitFieldOperation(context.OwnedArgument(1), program);
        return context.Apply(operation, static (c, op) =>
        {
            if (op.WrongType)
            {
                c.Writer.WriteError(RespErrors.WrongType);
                return;
            }

            c.Writer.WriteArrayHeader(op.Replies.Length);
            foreach (long? reply in op.Replies)
            {
                if (reply is { } value)
                {
                    c.Writer.WriteInteger(value);
                }
                else
                {
                    c.Writer.WriteNull();
                }
            }
        });
    }

    private static bool TryWriteWrongType(CommandContext context, ReadResult result)
    {
        if (result.Found && result.Record.IsTypedHeader)
        {
            context.Writer.WriteError(RespErrors.WrongType);
            return true;
        }

        return false;
    }

    /// <summary>The optional BYTE or BIT at <paramref name="index"/>; false after writing the syntax error.</summary>
    private static bool TryParseUnit(CommandContext context, int index, out bool inBits)
    {
        inBits = false;
        if (context.ArgumentCount <= index || context.ArgumentIs(index, "BYTE"))
        {
            return true;
        }

        if (context.ArgumentIs(index, "BIT"))
        {
            inBits = true;
            return true;
        }

        context.Writer.WriteError(RespErrors.Syntax);
        return false;
    }

    /// <summary>Negative indexes count from the end; both are clamped into [0, total - 1] as redis-server does.</summary>
    private static (long Start, long End) Clamp(long start, long end, long total)
    {
        if (start < 0)
        {
            start += total;
        }

        if (end < 0)
        {
            end += total;
        }

        start = Math.Max(0, start);
        end = Math.Max(0, end);
        end = Math.Min(end, total - 1);
        return (start, end);
    }

    private static long PopCount(ReadOnlySpan<byte> bytes)
    {
        long count = 0;
        ReadOnlySpan<ulong> words = MemoryMarshal.Cast<byte, ulong>(bytes);
        foreach (ulong word in words)
        {
            count += BitOperations.PopCount(word);
        }

        foreach (byte b in bytes[(words.Length * sizeof(ulong))..])
        {
            count += BitOperations.PopCount(b);
        }

        return count;
    }
}
