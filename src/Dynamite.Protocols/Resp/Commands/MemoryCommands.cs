using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// MEMORY USAGE, MEMORY STATS and MEMORY DOCTOR. Dynamite keeps keys in a storage engine, not in a process heap laid out per key,
/// so MEMORY USAGE is an estimate of what the key occupies (<see cref="Memory.KeyFootprint"/>).
/// </summary>
internal static class MemoryCommands
{
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

        if (context.ArgumentIs(1, "STATS") && context.ArgumentCount == 2)
        {
            return Stats(context);
        }

        return context.Error(RespErrors.UnknownSubcommand(context.ArgumentString(1), "MEMORY"));
    }

    /// <summary>
    /// MEMORY STATS: the process's memory as this runtime sees it, under redis-server's names where one means the same
    /// (peak.allocated: the peak resident set; total.allocated: the resident set now) and the managed heap's own figures.
    /// The storage engine's memory (RocksDB's caches and memtables) is part of the resident set.
    /// </summary>
    private static ValueTask Stats(CommandContext context)
    {
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        GCMemoryInfo heap = GC.GetGCMemoryInfo();
        RespWriter writer = context.Writer;
        writer.WriteMapHeader(5);
        writer.WriteBulk("peak.allocated"u8);
        writer.WriteInteger(process.PeakWorkingSet64);
        writer.WriteBulk("total.allocated"u8);
        writer.WriteInteger(process.WorkingSet64);
        writer.WriteBulk("managed-heap.bytes"u8);
        writer.WriteInteger(heap.HeapSizeBytes);
        writer.WriteBulk("managed-heap.fragmented.bytes"u8);
        writer.WriteInteger(heap.FragmentedBytes);
        writer.WriteBulk("clients.count"u8);
        writer.WriteInteger(context.Server.Clients.Count);
        return ValueTask.CompletedTask;
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

            c.Writer.WriteInteger(Resp.Memory.KeyFootprint.Estimate(c.Argument(2).Length, result.Record));
        });
    }
}
