using Dynamite.Core.DataTypes;
using Dynamite.Protocols.Resp.Commands.HashOperations;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// The hash commands that walk a hash rather than name its fields: HRANDFIELD (random picks over the whole hash) and
/// HSCAN (pages in field order), with redis-server's replies and errors (<see cref="ElementIteration"/>).
/// </summary>
internal static class HashIterationCommands
{
    public static ValueTask HRandField(CommandContext context)
    {
        if (context.ArgumentCount > 4 || (context.ArgumentCount == 4 && !context.ArgumentIs(3, "WITHVALUES")))
        {
            return context.SyntaxError();
        }

        if (context.ArgumentCount >= 3 && ElementIteration.ParseRandomCount(context, pairs: context.ArgumentCount == 4, out _) is { } error)
        {
            return context.Error(error);
        }

        var operation = new ElementReadOperation(context.OwnedArgument(1), DataType.Hash, ElementReadMode.All, HashKey.RenderEncoded);
        return TypedKeyCommands.Apply(context, operation, static (c, op) =>
        {
            if (c.ArgumentCount == 2)
            {
                ElementIteration.WriteRandomName(c, op.ElementNames);
                return;
            }

            _ = RespNumbers.TryParseInt64(c.Argument(2), out long requested);
            WriteRandomFields(c, op, ElementIteration.RandomPicks(op.ElementNames.Count, requested), withValues: c.ArgumentCount == 4);
        });
    }

    /// <summary>HRANDFIELD with a count: RESP3 pairs each field with its value in an array of its own.</summary>
    private static void WriteRandomFields(CommandContext context, ElementReadOperation op, int[] picks, bool withValues)
    {
        bool pairs = withValues && context.Writer.IsResp3;
        context.Writer.WriteArrayHeader(withValues && !pairs ? picks.Length * 2 : picks.Length);
        foreach (int pick in picks)
        {
            if (pairs)
            {
                context.Writer.WriteArrayHeader(2);
            }

            context.Writer.WriteBulk(op.ElementNames[pick]);
            if (withValues)
            {
                context.Writer.WriteBulk(op.Values[pick]!);
            }
        }
    }

    public static ValueTask HScan(CommandContext context) => ElementIteration.Scan(context, DataType.Hash, HashKey.RenderEncoded);
}
