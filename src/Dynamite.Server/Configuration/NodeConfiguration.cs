using System.Net;
using Dynamite.Core.Coordination;
using Dynamite.Storage;

namespace Dynamite.Server.Configuration;

/// <summary>
/// Everything a node starts with. Each <see cref="SettingAttribute"/> property is a setting declared here once: its
/// key is the YAML key, the <c>dynamite start</c> flag (<c>--key</c>) and the environment variable (<c>DYNAMITE_KEY</c>),
/// and its initial value is the default. <see cref="NodeConfigurationLoader"/> layers defaults &lt; YAML file &lt;
/// environment &lt; flags; <see cref="NodeSetting"/> derives the rest. Properties are in the order help lists them.
/// </summary>
public sealed record NodeConfiguration
{
    /// <summary>Upper bound on N: preference lists, quorum bookkeeping and fan-out stay small.</summary>
    public const int MaxReplicationFactor = 16;

    [Setting("node-id", "This node's unique name in the cluster")]
    public string NodeId { get; init; } = "n1";

    // Listeners are on loopback by default: nothing is exposed unless asked.
    [Setting("listen", "HOST:PORT for Redis clients (RESP)", Check = SettingCheck.Endpoint)]
    public string Listen { get; init; } = "127.0.0.1:8102";

    // redis-server's TLS settings, under its names, so existing configurations and tooling carry over.
    [Setting("tls-port", "Port for Redis clients over TLS, on the --listen host; 0: none. With it, a --listen port of 0 turns the plain port off",
        Check = SettingCheck.ZeroOrPositive)]
    public int TlsPort { get; init; }

    [Setting("tls-cert-file", "PEM certificate (with its chain) the TLS port presents; a changed file is used for the next handshake, without a restart")]
    public string? TlsCertFile { get; init; }

    [Setting("tls-key-file", "PEM private key of --tls-cert-file")]
    public string? TlsKeyFile { get; init; }

    [Setting("http-tls", "on: the admin HTTP API (--http) serves HTTPS with --tls-cert-file and --tls-key-file (the CLI then takes --http https://HOST:PORT " +
        "and trusts the CA in DYNAMITE_CA_CERT)")]
    public bool HttpTls { get; init; }

    [Setting("tls-ca-cert-file", "PEM CA certificates a client certificate must chain to; re-read when the file changes")]
    public string? TlsCaCertFile { get; init; }

    [Setting("tls-auth-clients", "yes: a TLS client must present a certificate signed by --tls-ca-cert-file; optional: a certificate it presents must be; " +
        "no: none is asked for", OneOf = "yes|no|optional")]
    public string TlsAuthClients { get; init; } = "yes";

    [Setting("tls-protocols", "TLS versions the TLS port accepts, space-separated (TLSv1.2, TLSv1.3)")]
    public string TlsProtocols { get; init; } = "TLSv1.2 TLSv1.3";

    [Setting("tls-ciphersuites", "TLSv1.3 cipher suites the TLS port offers, colon-separated IANA names (TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256); " +
        "empty: the system's defaults")]
    public string TlsCipherSuites { get; init; } = "";

    [Setting("http", "HOST:PORT for the admin HTTP API", Check = SettingCheck.Endpoint)]
    public string Http { get; init; } = "127.0.0.1:22222";

    /// <summary>Null means <see cref="ResolvedDataDir"/>, which depends on the node id.</summary>
    [Setting("data-dir", "Directory for the node's data files", DefaultText = "./data/<node-id>")]
    public string? DataDir { get; init; }

    [Setting("engine", "Storage engine: rocksdb (persistent), sqlite (persistent), lmdb (persistent) or memory (volatile)", OneOf = "rocksdb|sqlite|memory|lmdb")]
    public string Engine { get; init; } = "rocksdb";

    [Setting("fsync", "sqlite, rocksdb and lmdb durability: always (fsync every group commit before acknowledging; survives power loss), " +
        "batch (sync about once a second; a power loss may lose the last second), never (the OS decides). " +
        "Every setting survives a crash of the process")]
    public FsyncPolicy Fsync { get; init; } = FsyncPolicy.Batch;

    [Setting("record-cache-mb", "sqlite, rocksdb and lmdb: megabytes of recently used records kept in memory, so reads of hot keys " +
        "skip the database; 0 turns the cache off", Check = SettingCheck.ZeroOrPositive, Unit = "megabytes")]
    public int RecordCacheMb { get; init; } = (int)(RecordCache.DefaultCapacityBytes >> 20);

    [Setting("requirepass", "Password clients must AUTH with")]
    public string? RequirePass { get; init; }

    [Setting("aclfile", "File of ACL users (lines as ACL LIST writes them), read at start and by ACL LOAD, written by ACL SAVE; it must exist")]
    public string? AclFile { get; init; }

    [Setting("protected-mode", "on: while no requirepass is set, clients from beyond loopback without a verified TLS client certificate are refused " +
        "(redis-server's protected mode)")]
    public bool ProtectedMode { get; init; } = true;

    [Setting("maxclients", "Most clients connected at once")]
    public int MaxClients { get; init; } = 10000;

    // 0 disables the idle timeout, as in redis-server.
    [Setting("timeout", "Close clients idle for this many seconds; 0 never")]
    public int Timeout { get; init; }

    [Setting("maxmemory", "Bytes of managed memory above which the node evicts keys (maxmemory-policy) or refuses commands that add memory; " +
        "0: no limit. CONFIG SET maxmemory changes it", Check = SettingCheck.ZeroOrPositive, Unit = "bytes")]
    public long MaxMemory { get; init; }

    [Setting("maxmemory-policy", "What a node over maxmemory does: noeviction refuses commands that add memory (OOM); the others evict keys " +
        "(a standalone node only)", OneOf = "noeviction|allkeys-lru|volatile-lru|allkeys-lfu|volatile-lfu|allkeys-random|volatile-random|volatile-ttl")]
    public string MaxMemoryPolicy { get; init; } = "noeviction";

    [Setting("max-value-size", "Largest value in bytes a command may store")]
    public long MaxValueSize { get; init; } = 32L * 1024 * 1024;

    [Setting("proto-max-bulk-len", "Largest bulk argument in bytes; a larger one is a protocol error and closes the connection. " +
        "Raised to max-value-size when that is larger")]
    public long ProtoMaxBulkLen { get; init; } = 64L * 1024 * 1024;

    [Setting("client-query-buffer-limit", "A client buffering more unparsed input than this many bytes is disconnected. " +
        "Raised to twice max-value-size when max-value-size exceeds proto-max-bulk-len")]
    public long ClientQueryBufferLimit { get; init; } = 128L * 1024 * 1024;

    [Setting("partition-bits", "Q: the key space has 2^Q partitions (1 to 14), each a range of the 16,384 Redis Cluster hash slots; fixed for the life of the data")]
    public int PartitionBits { get; init; } = 8;

    [Setting("peer-listen", "HOST:PORT where other nodes connect (peer protocol); must differ from --listen and --http", Check = SettingCheck.Endpoint)]
    public string PeerListen { get; init; } = "127.0.0.1:8101";

    /// <summary>A node may find its own address in the list (one list shared by every node); it skips it.</summary>
    [Setting("seeds", "Peer addresses of other nodes, HOST:PORT,HOST:PORT, contacted to join the cluster; none means a standalone node",
        Check = SettingCheck.Endpoint)]
    public IReadOnlyList<string> Seeds { get; init; } = [];

    [Setting("dc", "This node's datacenter; each datacenter keeps its own replicas", Check = SettingCheck.Name)]
    public string Datacenter { get; init; } = "dc1";

    [Setting("rack", "This node's rack; replicas of a key go to distinct racks when racks allow", Check = SettingCheck.Name)]
    public string Rack { get; init; } = "rack1";

    /// <summary>Refused at the handshake, so two clusters never merge by mistake.</summary>
    [Setting("cluster-name", "Nodes with another cluster name are refused", Check = SettingCheck.Name)]
    public string ClusterName { get; init; } = "dynamite";

    [Setting("peer-tls", "on: peer connections are mutual TLS: a node presents --tls-cert-file (a node certificate, dynamite certs issue NODE) and " +
        "accepts only peers whose node certificate chains to --tls-ca-cert-file and names this --cluster-name and the node it says it is. " +
        "Changed files are used within seconds; a CA removed from the file closes the connections it alone trusted")]
    public bool PeerTls { get; init; }

    [Setting("cluster-secret", "Shared secret every node must prove when connecting; without it any node that knows the name may join " +
        "(warned about at start). Prefer the YAML key or DYNAMITE_CLUSTER_SECRET: flags are visible to other local users in ps")]
    public string? ClusterSecret { get; init; }

    [Setting("n", "N: replicas of every key, 1 to 16")]
    public int ReplicationFactor { get; init; } = 3;

    [Setting("r", "R: replica replies a read waits for, 1 to N")]
    public int ReadQuorum { get; init; } = 2;

    [Setting("w", "W: replica acknowledgements a write waits for, 1 to N; R + W > N reads your writes")]
    public int WriteQuorum { get; init; } = 2;

    [Setting("hinted-handoff", "on: a write for an unreachable replica goes to the next healthy node with a hint, replayed when the replica returns")]
    public bool HintedHandoff { get; init; } = true;

    [Setting("read-repair", "on: a read that finds stale replicas sends them the merged value")]
    public bool ReadRepair { get; init; } = true;

    [Setting("read-fanout", "quorum: a read asks R replicas, this node's own copy first, and another only when one fails; " +
        "all: every replica, for read repair of all N")]
    public ReadFanout ReadFanout { get; init; } = ReadFanout.Quorum;

    [Setting("request-timeout-ms", "How long a coordinator waits for one replica, in milliseconds", Check = SettingCheck.Positive, Unit = "milliseconds")]
    public int RequestTimeoutMs { get; init; } = 2000;

    [Setting("cluster-announce-replicas", "on: CLUSTER SLOTS and SHARDS list each slot range's other replicas after its master, for clients " +
        "that read from replicas range by range; off: each range lists its master only, so every node is a master, the one role " +
        "per node StackExchange.Redis 3.x and Redis Cluster's own tools expect")]
    public bool ClusterAnnounceReplicas { get; init; }

    [Setting("aae", "on: replicas exchange Merkle trees in the background and repair what differs, so keys nobody reads converge too")]
    public bool AntiEntropy { get; init; } = true;

    [Setting("aae-interval", "Seconds between the starts of anti-entropy rounds; a round exchanges every partition this node is a primary of " +
        "with each other primary", Check = SettingCheck.Positive, Unit = "seconds")]
    public int AntiEntropyIntervalSeconds { get; init; } = 60;

    // Longer than a write to the key can stay in flight or parked as a hint, so nothing older than the delete
    // arrives after its tombstone is collected.
    [Setting("tombstone-grace", "Seconds a delete's tombstone is kept at least; after that it is collected once every replica holds it. " +
        "Must exceed how long a write can stay in flight or as a hint", Check = SettingCheck.ZeroOrPositive, Unit = "seconds")]
    public int TombstoneGraceSeconds { get; init; } = 86400;

    [Setting("handoff-rate", "Most keys per second this node copies in when partitions move to it or it warms up after a wipe",
        Check = SettingCheck.Positive, Unit = "keys per second")]
    public int HandoffKeysPerSecond { get; init; } = 20000;

    /// <summary>The file the configuration came from, if any (not a setting: it is where settings come from).</summary>
    public string? ConfigFile { get; init; }

    public string ResolvedDataDir => DataDir ?? Path.Combine("data", NodeId);

    /// <summary>
    /// Checks every setting's own <see cref="SettingCheck"/>, then the rules relating settings, with messages that
    /// name the flag (the YAML key is the same without dashes). Listener addresses are parsed again when the node
    /// binds them; this catches clashes first.
    /// </summary>
    /// <exception cref="ConfigurationException">The first problem found.</exception>
    public void Validate()
    {
        if (MaxMemoryPolicy != "noeviction" && Seeds.Count > 0)
        {
            throw new ConfigurationException($"--maxmemory-policy {MaxMemoryPolicy} is for a standalone node: a cluster node's keys are replicas, " +
                "and evicting one would be a delete every replica takes. Use noeviction.");
        }

        if (ReplicationFactor is < 1 or > MaxReplicationFactor)
        {
            throw new ConfigurationException($"--n (replication factor) must be between 1 and {MaxReplicationFactor}, not {ReplicationFactor}.");
        }

        if (PartitionBits is < 1 or > Core.Partitioning.KeyPartitioner.MaxPartitionBits)
        {
            throw new ConfigurationException(
                $"--partition-bits must be between 1 and {Core.Partitioning.KeyPartitioner.MaxPartitionBits} (a partition is a range of the 16,384 hash slots), not {PartitionBits}.");
        }

        if (ReadQuorum < 1 || ReadQuorum > ReplicationFactor)
        {
            throw new ConfigurationException($"--r (read quorum) must be between 1 and n ({ReplicationFactor}), not {ReadQuorum}.");
        }

        if (WriteQuorum < 1 || WriteQuorum > ReplicationFactor)
        {
            throw new ConfigurationException($"--w (write quorum) must be between 1 and n ({ReplicationFactor}), not {WriteQuorum}.");
        }

        foreach (NodeSetting setting in NodeSetting.All)
        {
            setting.Check(this);
        }

        ValidateTls();
        if (AclFile is not null && !File.Exists(AclFile))
        {
            throw new ConfigurationException($"--aclfile {AclFile} does not exist: create it (an empty file means no users besides default), as redis-server requires.");
        }
        IPEndPoint peer = EndpointParser.Parse(PeerListen, "--peer-listen");
        if (Overlaps(peer, EndpointParser.Parse(Listen, "--listen")))
        {
            throw new ConfigurationException($"--peer-listen ({PeerListen}) and --listen ({Listen}) must be different ports.");
        }

        if (Overlaps(peer, EndpointParser.Parse(Http, "--http")))
        {
            throw new ConfigurationException($"--peer-listen ({PeerListen}) and --http ({Http}) must be different ports.");
        }
    }

    /// <summary>The TLS port's files, versions and suites, and that some port serves clients.</summary>
    private void ValidateTls()
    {
        if (PeerTls && (string.IsNullOrEmpty(TlsCertFile) || string.IsNullOrEmpty(TlsKeyFile) || string.IsNullOrEmpty(TlsCaCertFile)))
        {
            throw new ConfigurationException("--peer-tls needs --tls-cert-file and --tls-key-file (this node's certificate) and --tls-ca-cert-file (the cluster CA peers chain to).");
        }

        if (HttpTls && (string.IsNullOrEmpty(TlsCertFile) || string.IsNullOrEmpty(TlsKeyFile)))
        {
            throw new ConfigurationException("--http-tls needs --tls-cert-file and --tls-key-file (the certificate the admin API presents).");
        }

        if (PeerTls || HttpTls)
        {
            _ = Hosting.ClientTlsOptions.ParseProtocols(TlsProtocols);
        }

        IPEndPoint listen = EndpointParser.Parse(Listen, "--listen");
        if (TlsPort == 0)
        {
            if (listen.Port == 0)
            {
                throw new ConfigurationException("--listen port 0 turns the plain port off, which needs --tls-port: clients must reach the node somewhere.");
            }

            return;
        }

        if (TlsPort > 65535 || TlsPort == listen.Port || Overlaps(new IPEndPoint(listen.Address, TlsPort), EndpointParser.Parse(Http, "--http"))
            || Overlaps(new IPEndPoint(listen.Address, TlsPort), EndpointParser.Parse(PeerListen, "--peer-listen")))
        {
            throw new ConfigurationException($"--tls-port ({TlsPort}) must be a free port (1-65535) other than --listen, --http and --peer-listen.");
        }

        if (string.IsNullOrEmpty(TlsCertFile) || string.IsNullOrEmpty(TlsKeyFile))
        {
            throw new ConfigurationException("--tls-port needs --tls-cert-file and --tls-key-file.");
        }

        if (TlsAuthClients != "no" && string.IsNullOrEmpty(TlsCaCertFile))
        {
            throw new ConfigurationException($"--tls-auth-clients {TlsAuthClients} needs --tls-ca-cert-file (the CA client certificates chain to), or --tls-auth-clients no.");
        }

        _ = Hosting.ClientTlsOptions.ParseProtocols(TlsProtocols);
        _ = Hosting.ClientTlsOptions.ParseCipherSuites(TlsCipherSuites);
    }

    /// <summary>Two listeners clash on the same port when their addresses are equal or either is a wildcard.</summary>
    private static bool Overlaps(IPEndPoint a, IPEndPoint b) =>
        a.Port == b.Port && a.Port != 0 && (a.Address.Equals(b.Address) || IsWildcard(a.Address) || IsWildcard(b.Address));

    private static bool IsWildcard(IPAddress address) => address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);
}
