namespace Dynamite.Protocols.Resp.Commands.TypedKeys;

/// <summary>
/// The arguments LMPOP, BLMPOP, ZMPOP and BZMPOP share: <c>numkeys key... LEFT|RIGHT (MIN|MAX) [COUNT count]</c>, with
/// redis-server's errors for each.
/// </summary>
internal static class MultiPopArguments
{
    /// <summary>
    /// Parses from <paramref name="countAt"/> (numkeys); null when they are valid, else the error to answer.
    /// <paramref name="atFirstEnd"/> is true for <paramref name="firstEnd"/> (LEFT, MIN), false for <paramref name="secondEnd"/>.
    /// </summary>
    public static string? Parse(CommandContext context, int countAt, string firstEnd, string secondEnd, out byte[][] keys, out bool atFirstEnd, out long count)
    {
        keys = [];
        atFirstEnd = true;
        count = 1;
        if (!RespNumbers.TryParseInt64(context.Argument(countAt), out long keyCount) || keyCount < 1)
        {
            return "ERR numkeys should be greater than 0";
        }

        long whereAt = countAt + 1 + keyCount;
        if (whereAt >= context.ArgumentCount)
        {
            return RespErrors.Syntax;
        }

        if (context.ArgumentIs((int)whereAt, firstEnd))
        {
            atFirstEnd = true;
        }
        else if (context.ArgumentIs((int)whereAt, secondEnd))
        {
            atFirstEnd = false;
        }
        else
        {
            return RespErrors.Syntax;
        }

        bool counted = false;
        for (int j = (int)whereAt + 1; j < context.ArgumentCount; j++)
        {
            if (!counted && context.ArgumentIs(j, "COUNT") && j + 1 < context.ArgumentCount)
            {
                counted = true;
                if (!RespNumbers.TryParseInt64(context.Argument(++j), out count) || count < 1)
                {
                    return "ERR count should be greater than 0";
                }
            }
            else
            {
                return RespErrors.Syntax;
            }
        }

        keys = TypedKeyCommands.OwnedArguments(context, countAt + 1, (int)whereAt);
        return null;
    }
}
