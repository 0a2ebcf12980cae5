using System.Collections.Frozen;

namespace Dynamite.Protocols.Resp.PubSub;

/// <summary>
/// Which keyspace event each write command announces, and when, as redis-server names them: most on success, the
/// counting commands (SADD, SREM, HDEL, DEL, EXPIRE, ...) only when their reply says something changed, SET only when
/// it wrote (not NX or XX refused). The keys are the command's key arguments; SMOVE and RENAME announce one event per
/// key (<see cref="KeyspaceEvent.SecondKeyEvent"/>).
/// </summary>
internal static class KeyspaceEventTable
{
    private static readonly FrozenDictionary<string, KeyspaceEvent> Events = new Dictionary<string, KeyspaceEvent>(StringComparer.Ordinal)
    {
        ["set"] = new(KeyspaceEventClasses.Strings, "set", KeyspaceEventCondition.NotNull),
        ["setnx"] = new(KeyspaceEventClasses.Strings, "set", KeyspaceEventCondition.Positive),
        ["setex"] = new(KeyspaceEventClasses.Strings, "set"),
        ["psetex"] = new(KeyspaceEventClasses.Strings, "set"),
        ["getset"] = new(KeyspaceEventClasses.Strings, "set"),
        ["mset"] = new(KeyspaceEventClasses.Strings, "set"),
        ["msetnx"] = new(KeyspaceEventClasses.Strings, "set", KeyspaceEventCondition.Positive),
        ["append"] = new(KeyspaceEventClasses.Strings, "append"),
        ["setrange"] = new(KeyspaceEventClasses.Strings, "setrange"),
        ["setbit"] = new(KeyspaceEventClasses.Strings, "setbit"),
        ["pfadd"] = new(KeyspaceEventClasses.Strings, "pfadd", KeyspaceEventCondition.Positive),
        ["pfmerge"] = new(KeyspaceEventClasses.Strings, "pfadd") { DestinationOnly = true },
        ["incr"] = new(KeyspaceEventClasses.Strings, "incrby"),
        ["decr"] = new(KeyspaceEventClasses.Strings, "decrby"),
        ["incrby"] = new(KeyspaceEventClasses.Strings, "incrby"),
        ["decrby"] = new(KeyspaceEventClasses.Strings, "decrby"),
        ["incrbyfloat"] = new(KeyspaceEventClasses.Strings, "incrbyfloat"),
        ["getdel"] = new(KeyspaceEventClasses.Generic, "del", KeyspaceEventCondition.NotNull),
        ["del"] = new(KeyspaceEventClasses.Generic, "del", KeyspaceEventCondition.Positive),
        ["unlink"] = new(KeyspaceEventClasses.Generic, "del", KeyspaceEventCondition.Positive),
        ["expire"] = new(KeyspaceEventClasses.Generic, "expire", KeyspaceEventCondition.Positive),
        ["pexpire"] = new(KeyspaceEventClasses.Generic, "expire", KeyspaceEventCondition.Positive),
        ["expireat"] = new(KeyspaceEventClasses.Generic, "expire", KeyspaceEventCondition.Positive),
        ["pexpireat"] = new(KeyspaceEventClasses.Generic, "expire", KeyspaceEventCondition.Positive),
        ["persist"] = new(KeyspaceEventClasses.Generic, "persist", KeyspaceEventCondition.Positive),
        ["rename"] = new(KeyspaceEventClasses.Generic, "rename_from", KeyspaceEventCondition.Always, "rename_to"),
        ["renamenx"] = new(KeyspaceEventClasses.Generic, "rename_from", KeyspaceEventCondition.Positive, "rename_to"),
        ["copy"] = new(KeyspaceEventClasses.Generic, null, KeyspaceEventCondition.Positive, "copy_to"),
        ["hset"] = new(KeyspaceEventClasses.Hash, "hset"),
        ["hmset"] = new(KeyspaceEventClasses.Hash, "hset"),
        ["hsetnx"] = new(KeyspaceEventClasses.Hash, "hset", KeyspaceEventCondition.Positive),
        ["hdel"] = new(KeyspaceEventClasses.Hash, "hdel", KeyspaceEventCondition.Positive),
        ["hincrby"] = new(KeyspaceEventClasses.Hash, "hincrby"),
        ["hincrbyfloat"] = new(KeyspaceEventClasses.Hash, "hincrbyfloat"),
        ["sadd"] = new(KeyspaceEventClasses.Set, "sadd", KeyspaceEventCondition.Positive),
        ["srem"] = new(KeyspaceEventClasses.Set, "srem", KeyspaceEventCondition.Positive),
        ["spop"] = new(KeyspaceEventClasses.Set, "spop", KeyspaceEventCondition.NotNull),
        ["smove"] = new(KeyspaceEventClasses.Set, "srem", KeyspaceEventCondition.Positive, "sadd"),
        ["sinterstore"] = new(KeyspaceEventClasses.Set, "sinterstore", KeyspaceEventCondition.Positive) { DestinationOnly = true },
        ["sunionstore"] = new(KeyspaceEventClasses.Set, "sunionstore", KeyspaceEventCondition.Positive) { DestinationOnly = true },
        ["sdiffstore"] = new(KeyspaceEventClasses.Set, "sdiffstore", KeyspaceEventCondition.Positive) { DestinationOnly = true },

        ["lpush"] = new(KeyspaceEventClasses.List, "lpush", KeyspaceEventCondition.Positive),
        ["lpushx"] = new(KeyspaceEventClasses.List, "lpush", KeyspaceEventCondition.Positive),
        ["rpush"] = new(KeyspaceEventClasses.List, "rpush", KeyspaceEventCondition.Positive),
        ["rpushx"] = new(KeyspaceEventClasses.List, "rpush", KeyspaceEventCondition.Positive),
        ["lpop"] = new(KeyspaceEventClasses.List, "lpop", KeyspaceEventCondition.NotNull),
        ["rpop"] = new(KeyspaceEventClasses.List, "rpop", KeyspaceEventCondition.NotNull),
        ["linsert"] = new(KeyspaceEventClasses.List, "linsert", KeyspaceEventCondition.Positive),
        ["lset"] = new(KeyspaceEventClasses.List, "lset"),
        ["lrem"] = new(KeyspaceEventClasses.List, "lrem", KeyspaceEventCondition.Positive),
        ["ltrim"] = new(KeyspaceEventClasses.List, "ltrim"),

        // ZADD's reply counts added members only (without CH), so an update that adds none is not announced here,
        // where redis-server announces it.
        ["zadd"] = new(KeyspaceEventClasses.SortedSet, "zadd", KeyspaceEventCondition.Positive),
        ["zincrby"] = new(KeyspaceEventClasses.SortedSet, "zincr", KeyspaceEventCondition.NotNull),
        ["zrem"] = new(KeyspaceEventClasses.SortedSet, "zrem", KeyspaceEventCondition.Positive),
        ["zremrangebyscore"] = new(KeyspaceEventClasses.SortedSet, "zremrangebyscore", KeyspaceEventCondition.Positive),
        ["zremrangebyrank"] = new(KeyspaceEventClasses.SortedSet, "zremrangebyrank", KeyspaceEventCondition.Positive),
        ["zremrangebylex"] = new(KeyspaceEventClasses.SortedSet, "zremrangebylex", KeyspaceEventCondition.Positive),
        ["zpopmin"] = new(KeyspaceEventClasses.SortedSet, "zpopmin", KeyspaceEventCondition.NonEmpty),
        ["zpopmax"] = new(KeyspaceEventClasses.SortedSet, "zpopmax", KeyspaceEventCondition.NonEmpty),
        ["zunionstore"] = new(KeyspaceEventClasses.SortedSet, "zunionstore", KeyspaceEventCondition.Positive) { DestinationOnly = true },
        ["zinterstore"] = new(KeyspaceEventClasses.SortedSet, "zinterstore", KeyspaceEventCondition.Positive) { DestinationOnly = true },
        ["zdiffstore"] = new(KeyspaceEventClasses.SortedSet, "zdiffstore", KeyspaceEventCondition.Positive) { DestinationOnly = true },
        ["zrangestore"] = new(KeyspaceEventClasses.SortedSet, "zrangestore", KeyspaceEventCondition.Positive) { DestinationOnly = true },
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public static KeyspaceEvent? For(string command) => Events.GetValueOrDefault(command);
}

/// <summary>When a command's reply means it changed its key.</summary>
internal enum KeyspaceEventCondition
{
    /// <summary>Any reply but an error.</summary>
    Always,

    /// <summary>An integer reply above zero (a count of what changed, or 1 for done).</summary>
    Positive,

    /// <summary>A reply other than null (SET's refused NX, an empty SPOP).</summary>
    NotNull,

    /// <summary>An array with something in it (ZPOPMIN's members).</summary>
    NonEmpty,
}

/// <summary>
/// One command's event: its class, the event of its first key (or, for MSET and the store commands, of each key it
/// names), and for two-key commands the event of its second key (SMOVE's destination, RENAME's new name).
/// </summary>
internal sealed record KeyspaceEvent(KeyspaceEventClasses Class, string? FirstKeyEvent, KeyspaceEventCondition Condition = KeyspaceEventCondition.Always, string? SecondKeyEvent = null)
{
    /// <summary>Only the first key changes: the destination of PFMERGE and the *STORE commands (their other keys are read).</summary>
    public bool DestinationOnly { get; init; }
}
