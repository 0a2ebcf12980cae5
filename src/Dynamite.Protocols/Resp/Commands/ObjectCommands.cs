using Dynamite.Protocols.Resp.Commands.KeyOperations;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// OBJECT ENCODING, REFCOUNT, FREQ, IDLETIME and HELP, answered as redis-server 7.0 answers them where Dynamite can
/// know the answer: ENCODING names the encoding redis-server would give the value (<see cref="ObjectEncodingRead"/>),
/// REFCOUNT is 1 (INT_MAX for the integers Redis shares), FREQ the key's use counter under an lfu eviction policy (Redis's
/// own error otherwise), IDLETIME the seconds since its last use under an lru policy (an error otherwise: Dynamite records
/// uses only while such a policy needs them, <see cref="Memory.KeyAccessClock"/>).
/// </summary>
internal static class ObjectCommands
{
    /// <summary>Redis's reference count of a shared object (OBJ_SHARED_REFCOUNT).</summary>
    private const long SharedReferenceCount = int.MaxValue;

    private static readonly string[] HelpLines =
    [
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Prints this help.",
    ];

    public static IEnumerable<CommandDefinition> Definitions =>
    [
        new("OBJECT", -2, CommandFlags.ReadOnly, 2, 2, 1, "generic", "2.2.3", "A container for object introspection commands.", Object),
    ];

    private static ValueTask Object(CommandContext context)
    {
        if (context.ArgumentIs(1, "HELP") && context.ArgumentCount == 2)
        {
            return context.Help(HelpLines);
        }

        string? subcommand = context.ArgumentIs(1, "ENCODING") ? "encoding"
            : context.ArgumentIs(1, "REFCOUNT") ? "refcount"
            : context.ArgumentIs(1, "FREQ") ? "freq"
            : context.ArgumentIs(1, "IDLETIME") ? "idletime"
            : null;
        if (subcommand is null)
        {
            return context.Error(RespErrors.UnknownSubcommand(context.ArgumentString(1), "OBJECT"));
        }

        if (context.ArgumentCount != 3)
        {
            return context.WrongArgumentCount($"object|{subcommand}");
        }

        EncodingParameters parameters = context.Server.EncodingParameters;
        var thresholds = new EncodingThresholds(
            parameters.Get("hash-max-listpack-entries"),
            parameters.Get("hash-max-listpack-value"),
            parameters.Get("set-max-intset-entries"),
            parameters.Get("zset-max-listpack-entries"),
            parameters.Get("zset-max-listpack-value"));
        return context.Apply(new ObjectEncodingRead(context.OwnedArgument(2), thresholds), (c, read) => Reply(c, subcommand, read));
    }

    private static bool IsLfu(Memory.EvictionPolicy policy) => policy is Memory.EvictionPolicy.AllKeysLfu or Memory.EvictionPolicy.VolatileLfu;

    private static void Reply(CommandContext context, string subcommand, ObjectEncodingRead read)
    {
        if (read.Encoding is null)
        {
            context.Writer.WriteNull();
            return;
        }

        switch (subcommand)
        {
            case "encoding":
                context.Writer.WriteBulk(read.Encoding);
                break;
            case "refcount":
                context.Writer.WriteInteger(read.IsSharedInteger ? SharedReferenceCount : 1);
                break;
            case "freq" when IsLfu(context.Server.Memory.Policy):
                context.Writer.WriteInteger(context.Server.Memory.Access.Frequency(context.OwnedArgument(2), context.Server.NowUnixMs));
                break;
            case "freq":
                context.Writer.WriteError("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
                break;
            case "idletime" when IsLfu(context.Server.Memory.Policy):
                context.Writer.WriteError("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
                break;
            case "idletime" when context.Server.Memory.TracksAccess:
                context.Writer.WriteInteger(Math.Max(0, context.Server.NowUnixMs - context.Server.Memory.Access.LastUsedUnixMs(context.OwnedArgument(2))) / 1000);
                break;
            default:
                context.Writer.WriteError("ERR Dynamite records a key's last access only while an lru maxmemory-policy is selected, so OBJECT IDLETIME has no answer now");
                break;
        }
    }
}
