using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// MEMORY USAGE and MEMORY DOCTOR. Dynamite keeps keys in a storage engine, not in a process heap laid out per key,
/// so MEMORY USAGE is an estimate of what the key occupies: its name, its stored record, and for a collection a fixed
/// allowance per element (the elements are not read; Redis samples five of them for the same purpose).
/// </summary>
internal static class MemoryCommands
{
    /// <summary>Per-key bookkeeping beside the name and the record (a redis-server key costs about as much).</summary>
    private const long KeyOverheadBytes = 56;

    /// <summary>The allowance for one element of a collection: its record key, its state and a typical short name and value.</summary>
    private const long ElementAllowanceBytes = 64;

    public static IEnumerable<CommandDefinition> Definitions =>
    [
        new("MEMORY", -2, CommandFlags.ReadOnly, 0, 0, 0, "server", "4.0.0", "A container for memory diagnostics commands.", Memory),
    ];

    private static ValueTask Memory(CommandContext context)
    {
        if (context.ArgumentIs(1, "USAGE"))
        {
            return Usage(context);
        }

        if (context.ArgumentIs(1, "DOCTOR") && context.ArgumentCount == 2)
        {
            context.Writer.WriteBulk("Dynamite keeps its data in the storage engine; see INFO and /metrics for its figures.");
            return ValueTask.CompletedTask;
        }

        return context.Error(RespErrors.UnknownSubcommand(context.ArgumentString(1), "MEMORY"));
    }

    /// <summary>MEMORY USAGE key [SAMPLES count]: the estimate, or null for a missing key.</summary>
    private static ValueTask Usage(CommandContext context)
    {
        if (context.ArgumentCount != 3 && context.ArgumentCount != 5)
        {
            return context.ArgumentCount < 3 ? context.WrongArgumentCount("memory|usage") : context.SyntaxError();
        }

        if (context.ArgumentCount == 5 && (!context.ArgumentIs(3, "SAMPLES") || !RespNumbers.TryParseInt64(context.Argument(4), out long samples) || samples < 0))
        {
            return context.ArgumentIs(3, "SAMPLES") ? context.Error(RespErrors.NotInteger) : context.SyntaxError();
        }

        return context.ReadKeys(2, 1, 1, static (c, results) =>
        {
            ReadResult result = results[0];
            if (!result.Found)
            {
                c.Writer.WriteNull();
                return;
            }

            long bytes = KeyOverheadBytes + c.Argument(2).Length + result.Record.Value.Length;
            if (result.Record.IsTypedHeader)
            {
                bytes += TypedKeyRecord.CountOf(result.Record.Value) * ElementAllowanceBytes;
            }

            c.Writer.WriteInteger(bytes);
        });
    }
}
