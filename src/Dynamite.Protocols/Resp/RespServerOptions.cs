namespace Dynamite.Protocols.Resp;

/// <summary>The RESP front end's settings (the node's configuration fills them).</summary>
public sealed record RespServerOptions
{
    public RespLimits Limits { get; init; } = new();

    /// <summary>The password AUTH must present; null means no authentication (Redis: requirepass).</summary>
    public string? RequirePass { get; init; }

    /// <summary>The file ACL LOAD reads users from and ACL SAVE writes them to (Redis: aclfile); null: none. Read at start.</summary>
    public string? AclFile { get; init; }

    /// <summary>Most clients connected at once (Redis: maxclients).</summary>
    public int MaxClients { get; init; } = 10000;

    /// <summary>Close clients idle this long; zero disables it, as redis-server's default <c>timeout 0</c>.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.Zero;

    public string NodeId { get; init; } = "dynamite";

    /// <summary>The RESP listening port, for INFO.</summary>
    public int Port { get; init; } = 8102;

    /// <summary>The configuration file the node started from, for INFO; empty when none.</summary>
    public string ConfigFile { get; init; } = "";

    /// <summary>The storage engine's name, for INFO.</summary>
    public string EngineName { get; init; } = "";

    /// <summary>
    /// Extra INFO lines for a section (its name in lower case), appended after the front end's own; null for none.
    /// The node adds its cluster section and the command statistics its metrics hold.
    /// </summary>
    public Func<string, IReadOnlyList<KeyValuePair<string, string>>?>? ExtraInfo { get; init; }

    /// <summary>
    /// redis-server's protected mode: while no password is set, clients connecting from beyond the loopback interface
    /// without a verified TLS client certificate are refused with its DENIED error (CONFIG SET protected-mode changes it).
    /// </summary>
    public bool ProtectedMode { get; init; } = true;

    /// <summary>The cluster's topology as clients see it (CLUSTER SLOTS and the like); null on a standalone node, or answers null before the node has a ring.</summary>
    public Func<ClusterTopology?>? ClusterTopology { get; init; }

    /// <summary>"cluster" on a cluster node, "standalone" otherwise: the mode HELLO and INFO report, as Redis Cluster's nodes do.</summary>
    public string Mode => ClusterTopology is null ? "standalone" : "cluster";

    /// <summary>SAVE: makes every write the node acknowledged durable; null when the node has nothing to save.</summary>
    public Func<CancellationToken, Task>? Save { get; init; }

    /// <summary>SHUTDOWN: stops the node (as SIGTERM does); null when clients may not stop it.</summary>
    public Action? Shutdown { get; init; }

    /// <summary>redis-server's <c>maxmemory</c> in bytes; 0: no limit. CONFIG SET changes it.</summary>
    public long MaxMemoryBytes { get; init; }

    /// <summary>redis-server's <c>maxmemory-policy</c>; a cluster node only takes <c>noeviction</c> (a replica's keys are not its own to drop).</summary>
    public Memory.EvictionPolicy MaxMemoryPolicy { get; init; }

    /// <summary>The most memory the node's Lua state may hold (scripts and functions).</summary>
    public long ScriptMemoryLimitBytes { get; init; } = 128L * 1024 * 1024;

    /// <summary>Where <c>redis.log</c> writes; null: nowhere.</summary>
    public Microsoft.Extensions.Logging.ILogger? ScriptLogger { get; init; }

    /// <summary>Carries PUBLISH to the other nodes' subscribers; null on a standalone node.</summary>
    public Dynamite.Core.PubSub.IMessageRelay? MessageRelay { get; init; }
}
