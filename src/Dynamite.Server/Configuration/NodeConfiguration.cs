using Dynamite.Core.Coordination;
using System.Net;
using Dynamite.Storage;

namespace Dynamite.Server.Configuration;

/// <summary>
/// Everything a node starts with. Built from defaults, then the YAML file, then command-line flags
/// (flags win). Key names in YAML are the flag names without the dashes' prefix (e.g. <c>max-value-size</c>).
/// </summary>
public sealed record NodeConfiguration
{
    public string NodeId { get; init; } = "n1";

    /// <summary>RESP listener; loopback by default (safe default: nothing is exposed unless asked).</summary>
    public string Listen { get; init; } = "127.0.0.1:8102";

    /// <summary>Admin HTTP listener.</summary>
    public string Http { get; init; } = "127.0.0.1:22222";

    /// <summary>Where persistent engines keep their files; null means ./data/&lt;node-id&gt;.</summary>
    public string? DataDir { get; init; }

    public string Engine { get; init; } = "sqlite";

    public FsyncPolicy Fsync { get; init; } = FsyncPolicy.Always;

    /// <summary>Q: the key space has 2^Q fixed partitions.</summary>
    public int PartitionBits { get; init; } = 8;

    public string? RequirePass { get; init; }

    public int MaxClients { get; init; } = 10000;

    /// <summary>Idle client timeout in seconds; 0 disables it (redis-server's default).</summary>
    public int Timeout { get; init; }

    public long MaxValueSize { get; init; } = 32L * 1024 * 1024;

    public long ProtoMaxBulkLen { get; init; } = 64L * 1024 * 1024;

    public long ClientQueryBufferLimit { get; init; } = 128L * 1024 * 1024;

    /// <summary>Peer protocol listener (other nodes connect here); loopback by default.</summary>
    public string PeerListen { get; init; } = "127.0.0.1:8101";

    /// <summary>Peer addresses (HOST:PORT) of other nodes to contact at start; empty means a standalone node.
    /// A node may find its own address in the list (one list shared by every node); it skips it.</summary>
    public IReadOnlyList<string> Seeds { get; init; } = [];

    public string Datacenter { get; init; } = "dc1";

    public string Rack { get; init; } = "rack1";

    /// <summary>Nodes of another cluster are refused at the handshake, so two clusters never merge by mistake.</summary>
    public string ClusterName { get; init; } = "dynamite";

    /// <summary>Shared secret every node of the cluster proves at the handshake; null means none (warned about at start).</summary>
    public string? ClusterSecret { get; init; }

    /// <summary>N: replicas of every key. At most <see cref="MaxReplicationFactor"/>.</summary>
    public int ReplicationFactor { get; init; } = 3;

    /// <summary>R: replies a read waits for; 1 ≤ R ≤ N.</summary>
    public int ReadQuorum { get; init; } = 2;

    /// <summary>W: acknowledgements a write waits for; 1 ≤ W ≤ N. R + W > N gives read-your-writes while no fallback is used.</summary>
    public int WriteQuorum { get; init; } = 2;

    /// <summary>Writes for an unreachable replica go to a fallback with a hint, replayed when it comes back.</summary>
    public bool HintedHandoff { get; init; } = true;

    /// <summary>A read that sees stale replicas sends them the merged object.</summary>
    public bool ReadRepair { get; init; } = true;

    /// <summary>quorum: a read asks R replicas, its own first, and another only when one fails; all: every replica (Dynamo, Riak).</summary>
    public ReadFanout ReadFanout { get; init; } = ReadFanout.Quorum;

    /// <summary>How long the coordinator waits for one replica's reply.</summary>
    public int RequestTimeoutMs { get; init; } = 2000;

    /// <summary>Background Merkle-tree exchanges between replicas (active anti-entropy).</summary>
    public bool AntiEntropy { get; init; } = true;

    /// <summary>Seconds between anti-entropy rounds; one round visits every partition this node is a primary of.</summary>
    public int AntiEntropyIntervalSeconds { get; init; } = 60;

    /// <summary>
    /// Seconds a tombstone is kept after its delete at least, even once every replica holds it: longer than a
    /// write to the key can stay in flight or parked as a hint, so nothing older than the delete arrives after it is collected.
    /// </summary>
    public int TombstoneGraceSeconds { get; init; } = 86400;

    /// <summary>Most keys per second a node copies in when partitions move to it or it warms up (handoff's rate limit).</summary>
    public int HandoffKeysPerSecond { get; init; } = 20000;

    /// <summary>The file the configuration came from, if any.</summary>
    public string? ConfigFile { get; init; }

    /// <summary>Upper bound on N: preference lists, quorum bookkeeping and fan-out stay small.</summary>
    public const int MaxReplicationFactor = 16;

    public string ResolvedDataDir => DataDir ?? Path.Combine("data", NodeId);

    /// <summary>
    /// Checks the cluster settings, with messages that name the flag (the YAML key is the same without
    /// dashes). Listener addresses are parsed again when the node binds them; this catches clashes first.
    /// </summary>
    /// <exception cref="ConfigurationException">The first problem found.</exception>
    public void Validate()
    {
        if (ReplicationFactor is < 1 or > MaxReplicationFactor)
        {
            throw new ConfigurationException($"--n (replication factor) must be between 1 and {MaxReplicationFactor}, not {ReplicationFactor}.");
        }

        if (ReadQuorum < 1 || ReadQuorum > ReplicationFactor)
        {
            throw new ConfigurationException($"--r (read quorum) must be between 1 and n ({ReplicationFactor}), not {ReadQuorum}.");
        }

        if (WriteQuorum < 1 || WriteQuorum > ReplicationFactor)
        {
            throw new ConfigurationException($"--w (write quorum) must be between 1 and n ({ReplicationFactor}), not {WriteQuorum}.");
        }

        if (AntiEntropyIntervalSeconds < 1)
        {
            throw new ConfigurationException($"--aae-interval must be a positive number of seconds, not {AntiEntropyIntervalSeconds}.");
        }

        if (HandoffKeysPerSecond < 1)
        {
            throw new ConfigurationException($"--handoff-rate must be a positive number of keys per second, not {HandoffKeysPerSecond}.");
        }

        if (TombstoneGraceSeconds < 0)
        {
            throw new ConfigurationException($"--tombstone-grace must be zero or a positive number of seconds, not {TombstoneGraceSeconds}.");
        }

        if (RequestTimeoutMs < 1)
        {
            throw new ConfigurationException($"--request-timeout-ms must be a positive number of milliseconds, not {RequestTimeoutMs}.");
        }

        RequireName(Datacenter, "--dc");
        RequireName(Rack, "--rack");
        RequireName(ClusterName, "--cluster-name");

        IPEndPoint peer = EndpointParser.Parse(PeerListen, "--peer-listen");
        IPEndPoint resp = EndpointParser.Parse(Listen, "--listen");
        IPEndPoint http = EndpointParser.Parse(Http, "--http");
        if (Overlaps(peer, resp))
        {
            throw new ConfigurationException($"--peer-listen ({PeerListen}) and --listen ({Listen}) must be different ports.");
        }

        if (Overlaps(peer, http))
        {
            throw new ConfigurationException($"--peer-listen ({PeerListen}) and --http ({Http}) must be different ports.");
        }

        foreach (string seed in Seeds)
        {
            EndpointParser.Parse(seed, "--seeds");
        }
    }

    /// <summary>Splits a comma-separated seed list (<c>HOST:PORT,HOST:PORT</c>), ignoring blanks around commas.</summary>
    public static IReadOnlyList<string> ParseSeeds(string text) =>
        text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Parses a read fan-out: quorum or all (any case).</summary>
    public static ReadFanout ParseReadFanout(string text, string setting) => text.Trim().ToLowerInvariant() switch
    {
        "quorum" => ReadFanout.Quorum,
        "all" => ReadFanout.All,
        _ => throw new ConfigurationException($"{setting} must be quorum or all, not '{text}'."),
    };

    /// <summary>Parses an on/off setting: on, off, true, false, yes, no (any case).</summary>
    public static bool ParseSwitch(string text, string setting) => text.Trim().ToLowerInvariant() switch
    {
        "on" or "true" or "yes" => true,
        "off" or "false" or "no" => false,
        _ => throw new ConfigurationException($"{setting} must be on or off, not '{text}'."),
    };

    private static void RequireName(string value, string setting)
    {
        if (string.IsNullOrEmpty(value) || value.Any(char.IsWhiteSpace))
        {
            throw new ConfigurationException($"{setting} must be a non-empty name without whitespace, not '{value}'.");
        }
    }

    /// <summary>Two listeners clash on the same port when their addresses are equal or either is a wildcard.</summary>
    private static bool Overlaps(IPEndPoint a, IPEndPoint b) =>
        a.Port == b.Port && a.Port != 0 && (a.Address.Equals(b.Address) || IsWildcard(a.Address) || IsWildcard(b.Address));

    private static bool IsWildcard(IPAddress address) => address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);
}
