namespace Dynamite.Protocols.Resp.Commands.TypedKeys;

/// <summary>What the commands of every typed key (hashes, sets) share in the front end.</summary>
internal static class TypedKeyCommands
{
    /// <summary>Runs a typed key's operation; its reply is written only when no key it opened held another type, WRONGTYPE otherwise.</summary>
    public static ValueTask Apply<TOperation>(CommandContext context, TOperation operation, Action<CommandContext, TOperation> reply)
        where TOperation : ITypedKeyOperation =>
        context.Apply(operation, (c, op) =>
        {
            if (op.WrongType)
            {
                c.Writer.WriteError(RespErrors.WrongType);
            }
            else
            {
                reply(c, op);
            }
        });

    /// <summary>Copies of the arguments from <paramref name="first"/> to the last, for an operation to keep.</summary>
    public static byte[][] OwnedArguments(CommandContext context, int first, int end = -1)
    {
        end = end < 0 ? context.ArgumentCount : end;
        var arguments = new byte[end - first][];
        for (int i = first; i < end; i++)
        {
            arguments[i - first] = context.OwnedArgument(i);
        }

        return arguments;
    }
}
