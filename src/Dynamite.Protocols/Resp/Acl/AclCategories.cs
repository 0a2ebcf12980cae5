using Dynamite.Protocols.Resp.Commands;

namespace Dynamite.Protocols.Resp.Acl;

/// <summary>
/// Redis's ACL command categories (<c>ACL CAT</c>, <c>+@read</c>) and which commands each holds, derived from what the
/// command table already says of a command (its group and flags) plus Redis's lists of dangerous and blocking commands,
/// so a command added to the table is categorized without a second list to keep in step.
/// </summary>
internal static class AclCategories
{
    /// <summary>Every category, in Redis's order (<c>ACL CAT</c>).</summary>
    public static readonly string[] Names =
    [
        "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap", "hyperloglog", "geo", "stream",
        "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection", "transaction", "scripting",
    ];

    /// <summary>The commands Redis marks dangerous besides the admin ones: they touch every key or the whole server.</summary>
    private static readonly HashSet<string> Dangerous = new(StringComparer.Ordinal)
    {
        "flushall", "flushdb", "keys", "debug", "config", "shutdown", "monitor", "save", "bgsave", "bgrewriteaof", "replicaof",
        "slaveof", "client", "cluster", "info", "lastsave", "sync", "psync", "migrate", "restore", "swapdb", "failover",
        "latency", "slowlog", "module", "pfdebug", "pfselftest", "sort", "role", "acl",
    };

    private static readonly HashSet<string> Blocking = new(StringComparer.Ordinal)
    {
        "blpop", "brpop", "brpoplpush", "blmove", "blmpop", "bzpopmin", "bzpopmax", "bzmpop", "wait", "xread", "xreadgroup",
    };

    public static bool IsCategory(string name) => Array.IndexOf(Names, name) >= 0;

    /// <summary>Whether <paramref name="command"/> belongs to <paramref name="category"/> (one of <see cref="Names"/>).</summary>
    public static bool Contains(string category, CommandDefinition command)
    {
        string name = command.LowerName;
        return category switch
        {
            "keyspace" => command.Group == "generic",
            "read" => (command.Flags & CommandFlags.ReadOnly) != 0,
            "write" => (command.Flags & CommandFlags.Write) != 0,
            "set" => command.Group == "set",
            "sortedset" => command.Group is "sorted-set" or "sorted_set",
            "list" => command.Group == "list",
            "hash" => command.Group == "hash",
            "string" => command.Group == "string",
            "bitmap" => command.Group == "bitmap",
            "hyperloglog" => command.Group == "hyperloglog",
            "geo" => command.Group == "geo",
            "stream" => command.Group == "stream",
            "pubsub" => command.Group == "pubsub",
            "admin" => (command.Flags & CommandFlags.Admin) != 0,
            "fast" => (command.Flags & CommandFlags.Fast) != 0,
            "slow" => (command.Flags & CommandFlags.Fast) == 0,
            "blocking" => Blocking.Contains(name),
            "dangerous" => (command.Flags & CommandFlags.Admin) != 0 || Dangerous.Contains(name),
            "connection" => command.Group == "connection",
            "transaction" => command.Group == "transactions",
            "scripting" => command.Group == "scripting",
            _ => false,
        };
    }
}
