namespace Dynamite.Protocols.Resp.Commands.TypedKeys;

/// <summary>What the commands of every typed key (hashes, sets) share in the front end.</summary>
internal static class TypedKeyCommands
{
    /// <summary>
    /// The set commands that write over several keys: a cluster node has no atomic operation across keys of a type yet.
    /// (The read forms, SINTER, SUNION, SDIFF and SINTERCARD, read each key by quorum there.)
    /// </summary>
    private static readonly HashSet<string> MultiKeySetCommands = ["SMOVE", "SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"];

    /// <summary>
    /// The refusal a store without typed operations across keys (a cluster node,
    /// <see cref="Core.KeyValue.IKeyValueStore.SupportsMultiKeyTypedOperations"/>) answers to <paramref name="command"/>,
    /// or null when the command runs there.
    /// </summary>
    public static string? NotOnCluster(CommandDefinition command) =>
        command.Group == "set" && MultiKeySetCommands.Contains(command.Name)
            ? $"ERR {command.Name} is not supported on a cluster node yet: set commands that write over several keys run on a standalone node only"
            : null;

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
