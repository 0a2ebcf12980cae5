using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// CLUSTER on a cluster node, as Redis Cluster answers it: KEYSLOT (a key's hash slot, <see cref="HashSlot"/>, which
/// decides its partition), COUNTKEYSINSLOT and GETKEYSINSLOT (the live keys this node stores in a slot: a slot is one
/// range of the key-hash order, so this is one bounded scan), HELP. A standalone node answers every subcommand as a
/// redis-server without cluster support does, which is how clients tell the two apart.
/// </summary>
internal static class ClusterCommands
{
    /// <summary>Keys per engine page while walking a slot.</summary>
    private const int SlotPageSize = 1000;

    private static readonly string[] HelpLines =
    [
        "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "COUNTKEYSINSLOT <slot>",
        "    Return the number of keys in <slot>.",
        "GETKEYSINSLOT <slot> <count>",
        "    Return key names stored by current node in a slot.",
        "KEYSLOT <key>",
        "    Return the hash slot for <key>.",
        "HELP",
        "    Prints this help.",
    ];

    public static IEnumerable<CommandDefinition> Definitions =>
    [
        new("CLUSTER", -2, CommandFlags.None, 0, 0, 0, "cluster", "3.0.0", "A container for Redis Cluster commands.", Cluster),
    ];

    private static ValueTask Cluster(CommandContext context)
    {
        if (context.Store is not IVersionedKeyValueStore)
        {
            return context.Error("ERR This instance has cluster support disabled");
        }

        if (context.ArgumentIs(1, "HELP") && context.ArgumentCount == 2)
        {
            context.Writer.WriteArrayHeader(HelpLines.Length);
            foreach (string line in HelpLines)
            {
                context.Writer.WriteSimpleString(line);
            }

            return ValueTask.CompletedTask;
        }

        if (context.ArgumentIs(1, "KEYSLOT"))
        {
            return context.ArgumentCount != 3 ? context.WrongArgumentCount("cluster|keyslot") : Reply(context, HashSlot.Of(context.Argument(2)));
        }

        if (context.ArgumentIs(1, "COUNTKEYSINSLOT"))
        {
            if (context.ArgumentCount != 3)
            {
                return context.WrongArgumentCount("cluster|countkeysinslot");
            }

            if (!RespNumbers.TryParseInt64(context.Argument(2), out long slot))
            {
                return context.Error(RespErrors.NotInteger);
            }

            return slot is < 0 or >= HashSlot.Count ? context.Error("ERR Invalid slot") : Reply(context, KeysInSlot(context.Store, (int)slot, long.MaxValue, null));
        }

        if (context.ArgumentIs(1, "GETKEYSINSLOT"))
        {
            if (context.ArgumentCount != 4)
            {
                return context.WrongArgumentCount("cluster|getkeysinslot");
            }

            if (!RespNumbers.TryParseInt64(context.Argument(2), out long slot) || !RespNumbers.TryParseInt64(context.Argument(3), out long count))
            {
                return context.Error(RespErrors.NotInteger);
            }

            if (slot is < 0 or >= HashSlot.Count || count < 0)
            {
                return context.Error("ERR Invalid slot or number of keys");
            }

            var keys = new List<byte[]>();
            KeysInSlot(context.Store, (int)slot, count, keys);
            context.Writer.WriteArrayHeader(keys.Count);
            foreach (byte[] key in keys)
            {
                context.Writer.WriteBulk(key);
            }

            return ValueTask.CompletedTask;
        }

        return context.Error(RespErrors.UnknownSubcommand(context.ArgumentString(1), "CLUSTER"));
    }

    private static ValueTask Reply(CommandContext context, long value)
    {
        context.Writer.WriteInteger(value);
        return ValueTask.CompletedTask;
    }

    /// <summary>Counts (and collects into <paramref name="into"/>, when given) up to <paramref name="limit"/> live keys of <paramref name="slot"/> this node stores.</summary>
    private static long KeysInSlot(IKeyValueStore store, int slot, long limit, List<byte[]>? into)
    {
        long found = 0;
        ulong? from = KeyPartitioner.FirstHashOfSlot(slot);
        while (from is { } cursor && found < limit)
        {
            ScanPage page = store.Scan(cursor, SlotPageSize);
            foreach (byte[] key in page.Keys)
            {
                if (HashSlot.Of(key) != slot)
                {
                    // Keys come in hash order, whose top bits are the slot: the first of another slot ends this one.
                    return found;
                }

                into?.Add(key);
                if (++found == limit)
                {
                    return found;
                }
            }

            from = page.NextHash;
        }

        return found;
    }
}
