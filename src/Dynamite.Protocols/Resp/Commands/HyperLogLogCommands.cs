using Dynamite.Core.HyperLogLogs;
using Dynamite.Core.KeyValue;
using Dynamite.Protocols.Resp.Commands.HyperLogLogOperations;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// PFADD, PFCOUNT and PFMERGE over redis-server's sketch format (<see cref="HyperLogLog"/>), with its replies and
/// errors. PFCOUNT answers a sketch's cached count when fresh; otherwise it computes the count and, on a standalone
/// node, writes it into the header as redis-server does (<see cref="PfCountCacheOperation"/>). On a cluster node it is a
/// read that writes nothing: writing the cache back would make every PFCOUNT a replicated write.
/// </summary>
internal static class HyperLogLogCommands
{
    private const string NotSketch = "WRONGTYPE Key is not a valid HyperLogLog string value.";
    private const string Corrupt = "INVALIDOBJ Corrupted HLL object detected";

    public static IEnumerable<CommandDefinition> Definitions =>
    [
        new("PFADD", -2, CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, 1, 1, 1, "hyperloglog", "2.8.9", "Adds elements to a HyperLogLog key. Creates the key if it doesn't exist.", PfAdd),
        new("PFCOUNT", -2, CommandFlags.ReadOnly, 1, -1, 1, "hyperloglog", "2.8.9", "Returns the approximated cardinality of the set(s) observed by the HyperLogLog key(s).", PfCount),
        new("PFMERGE", -2, CommandFlags.Write | CommandFlags.DenyOom, 1, -1, 1, "hyperloglog", "2.8.9", "Merges one or more HyperLogLog values into a single key.", PfMerge),
    ];

    private static ValueTask PfAdd(CommandContext context)
    {
        var operation = new PfAddOperation(context.OwnedArgument(1), [.. Enumerable.Range(2, context.ArgumentCount - 2).Select(context.OwnedArgument)]);
        return context.Apply(operation, static (c, op) =>
        {
            if (!TryWriteRefusal(c, op.Outcome))
            {
                c.Writer.WriteInteger(op.Updated ? 1 : 0);
            }
        });
    }

    private static ValueTask PfMerge(CommandContext context)
    {
        var operation = new PfMergeOperation(context.OwnedArgument(1), [.. Enumerable.Range(2, context.ArgumentCount - 2).Select(context.OwnedArgument)]);
        return context.Apply(operation, static (c, op) =>
        {
            if (!TryWriteRefusal(c, op.Outcome))
            {
                c.Writer.WriteOk();
            }
        });
    }

    private static ValueTask PfCount(CommandContext context)
    {
        if (context.ArgumentCount == 2 && context.Store is not IVersionedKeyValueStore)
        {
            return context.Apply(new PfCountCacheOperation(context.OwnedArgument(1)), static (c, op) =>
            {
                if (!TryWriteRefusal(c, op.Outcome))
                {
                    c.Writer.WriteInteger(op.Count);
                }
            });
        }

        return PfCountRead(context);
    }

    private static ValueTask PfCountRead(CommandContext context) =>
        context.ReadKeys(1, context.ArgumentCount - 1, 1, static (c, results) =>
        {
            if (results.Length == 1)
            {
                if (!results[0].Found)
                {
                    c.Writer.WriteInteger(0);
                    return;
                }

                if (!results[0].Record.IsTypedHeader && HyperLogLog.IsSketch(results[0].Record.Value)
                    && HyperLogLog.TryReadCachedCount(results[0].Record.Value, out long cached))
                {
                    c.Writer.WriteInteger(cached);
                    return;
                }
            }

            byte[] registers = new byte[HyperLogLog.RegisterCount];
            bool dense = false;
            foreach (ReadResult result in results)
            {
                if (result.Found && TryWriteRefusal(c, PfMergeOperation.Merge(result.Record, registers, ref dense)))
                {
                    return;
                }
            }

            c.Writer.WriteInteger(HyperLogLog.Count(registers));
        });

    /// <summary>Writes the error for a refused outcome; false when there is none.</summary>
    internal static bool TryWriteRefusal(CommandContext context, SketchOutcome outcome)
    {
        string? error = outcome switch
        {
            SketchOutcome.WrongType => RespErrors.WrongType,
            SketchOutcome.NotSketch => NotSketch,
            SketchOutcome.Corrupt => Corrupt,
            _ => null,
        };
        if (error is not null)
        {
            context.Writer.WriteError(error);
        }

        return error is not null;
    }
}
