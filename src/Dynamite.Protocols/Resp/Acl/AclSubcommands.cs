namespace Dynamite.Protocols.Resp.Acl;

/// <summary>
/// The subcommands of the container commands, as redis-server knows them: a rule may allow or deny one
/// (<c>+config|get</c>), and a rule naming one that does not exist is refused. Commands not listed here take any first
/// argument in a rule (<c>+select|0</c>), as redis-server's first-argument rules do.
/// </summary>
internal static class AclSubcommands
{
    private static readonly Dictionary<string, HashSet<string>> Containers = new(StringComparer.Ordinal)
    {
        ["acl"] = Set("cat", "deluser", "dryrun", "genpass", "getuser", "help", "list", "load", "log", "save", "setuser", "users", "whoami"),
        ["client"] = Set("caching", "getname", "getredir", "help", "id", "info", "kill", "list", "no-evict", "pause", "reply", "setname",
            "tracking", "trackinginfo", "unblock", "unpause", "no-touch", "setinfo"),
        ["cluster"] = Set("addslots", "addslotsrange", "bumpepoch", "count-failure-reports", "countkeysinslot", "delslots", "delslotsrange",
            "failover", "flushslots", "forget", "getkeysinslot", "help", "info", "keyslot", "links", "meet", "myid", "myshardid", "nodes",
            "replicas", "replicate", "reset", "saveconfig", "set-config-epoch", "setslot", "shards", "slaves", "slots"),
        ["command"] = Set("count", "docs", "getkeys", "getkeysandflags", "help", "info", "list"),
        ["config"] = Set("get", "help", "resetstat", "rewrite", "set"),
        ["function"] = Set("delete", "dump", "flush", "help", "kill", "list", "load", "restore", "stats"),
        ["memory"] = Set("doctor", "help", "malloc-stats", "purge", "stats", "usage"),
        ["object"] = Set("encoding", "freq", "help", "idletime", "refcount"),
        ["pubsub"] = Set("channels", "help", "numpat", "numsub", "shardchannels", "shardnumsub"),
        ["script"] = Set("debug", "exists", "flush", "help", "kill", "load"),
    };

    /// <summary>The subcommands of <paramref name="command"/> (lower case); null when it is not a container.</summary>
    public static HashSet<string>? Of(string command) => Containers.GetValueOrDefault(command);

    /// <summary>Whether <paramref name="command"/> (lower case) is a container: its errors name "command|subcommand".</summary>
    public static bool IsContainer(string command) => Containers.ContainsKey(command);

    private static HashSet<string> Set(params string[] names) => new(names, StringComparer.Ordinal);
}
