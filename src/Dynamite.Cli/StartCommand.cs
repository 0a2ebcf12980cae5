using System.CommandLine;
using Dynamite.Server.Configuration;
using Dynamite.Server.Hosting;

namespace Dynamite.Cli;

/// <summary><c>dynamite start</c>: runs one node in the foreground until SIGINT or SIGTERM.</summary>
internal sealed class StartCommand
{
    private static readonly NodeConfiguration Defaults = new();

    private readonly Option<string?> _nodeId = new("--node-id") { Description = $"This node's unique name in the cluster (default: {Defaults.NodeId})." };
    private readonly Option<string?> _listen = new("--listen") { Description = $"HOST:PORT for Redis clients (RESP) (default: {Defaults.Listen})." };
    private readonly Option<string?> _http = new("--http") { Description = $"HOST:PORT for the admin HTTP API (default: {Defaults.Http})." };
    private readonly Option<string?> _dataDir = new("--data-dir") { Description = "Directory for the node's data files (default: ./data/<node-id>)." };
    private readonly Option<string?> _engine = new("--engine") { Description = "Storage engine: sqlite (persistent) or memory (volatile) (default: sqlite)." };
    private readonly Option<string?> _fsync = new("--fsync")
    {
        Description = "sqlite durability: always (fsync every group commit before acknowledging; survives power loss), " +
            "batch (sync about once a second; a power loss may lose the last second), never (the OS decides). " +
            "Every setting survives a crash of the process (default: always).",
    };

    private readonly Option<string?> _config = new("--config") { Description = "YAML configuration file; flags given on the command line override its keys." };
    private readonly Option<string?> _requirePass = new("--requirepass") { Description = "Password clients must AUTH with (default: none)." };
    private readonly Option<int?> _maxClients = new("--maxclients") { Description = $"Most clients connected at once (default: {Defaults.MaxClients})." };
    private readonly Option<int?> _timeout = new("--timeout") { Description = "Close clients idle for this many seconds; 0 never (default: 0)." };
    private readonly Option<long?> _maxValueSize = new("--max-value-size") { Description = $"Largest value in bytes a command may store (default: {Defaults.MaxValueSize})." };
    private readonly Option<int?> _partitionBits = new("--partition-bits") { Description = $"Q: the key space has 2^Q partitions; fixed for the life of the data (default: {Defaults.PartitionBits})." };

    private readonly Option<string?> _peerListen = new("--peer-listen") { Description = $"HOST:PORT where other nodes connect (peer protocol); must differ from --listen and --http (default: {Defaults.PeerListen})." };
    private readonly Option<string?> _seeds = new("--seeds") { Description = "Peer addresses of other nodes, HOST:PORT,HOST:PORT, contacted to join the cluster; none means a standalone node (default: none)." };
    private readonly Option<string?> _datacenter = new("--dc") { Description = $"This node's datacenter; each datacenter keeps its own replicas (default: {Defaults.Datacenter})." };
    private readonly Option<string?> _rack = new("--rack") { Description = $"This node's rack; replicas of a key go to distinct racks when racks allow (default: {Defaults.Rack})." };
    private readonly Option<string?> _clusterName = new("--cluster-name") { Description = $"Nodes with another cluster name are refused (default: {Defaults.ClusterName})." };
    private readonly Option<string?> _clusterSecret = new("--cluster-secret") { Description = "Shared secret every node must prove when connecting; without it any node that knows the name may join (default: none, with a warning). Prefer the YAML key: flags are visible to other local users in ps." };
    private readonly Option<int?> _replicationFactor = new("--n") { Description = $"N: replicas of every key, 1 to {NodeConfiguration.MaxReplicationFactor} (default: {Defaults.ReplicationFactor})." };
    private readonly Option<int?> _readQuorum = new("--r") { Description = $"R: replica replies a read waits for, 1 to N (default: {Defaults.ReadQuorum})." };
    private readonly Option<int?> _writeQuorum = new("--w") { Description = $"W: replica acknowledgements a write waits for, 1 to N; R + W > N reads your writes (default: {Defaults.WriteQuorum})." };
    private readonly Option<string?> _hintedHandoff = new("--hinted-handoff") { Description = "on: a write for an unreachable replica goes to the next healthy node with a hint, replayed when the replica returns (default: on)." };
    private readonly Option<string?> _readRepair = new("--read-repair") { Description = "on: a read that finds stale replicas sends them the merged value (default: on)." };
    private readonly Option<string?> _readFanout = new("--read-fanout") { Description = "quorum: a read asks R replicas, this node's own copy first, and another only when one fails; all: every replica, for read repair of all N (default: quorum)." };
    private readonly Option<string?> _antiEntropy = new("--aae") { Description = "on: replicas exchange Merkle trees in the background and repair what differs, so keys nobody reads converge too (default: on)." };
    private readonly Option<int?> _tombstoneGrace = new("--tombstone-grace") { Description = $"Seconds a delete's tombstone is kept at least; after that it is collected once every replica holds it. Must exceed how long a write can stay in flight or as a hint (default: {Defaults.TombstoneGraceSeconds})." };
    private readonly Option<int?> _handoffRate = new("--handoff-rate") { Description = $"Most keys per second this node copies in when partitions move to it or it warms up after a wipe (default: {Defaults.HandoffKeysPerSecond})." };
    private readonly Option<int?> _antiEntropyInterval = new("--aae-interval") { Description = $"Seconds between the starts of anti-entropy rounds; a round exchanges every partition this node is a primary of with each other primary (default: {Defaults.AntiEntropyIntervalSeconds})." };
    private readonly Option<int?> _requestTimeoutMs = new("--request-timeout-ms") { Description = $"How long a coordinator waits for one replica, in milliseconds (default: {Defaults.RequestTimeoutMs})." };

    public StartCommand()
    {
        _engine.AcceptOnlyFromAmong("sqlite", "memory");
        _fsync.AcceptOnlyFromAmong("always", "batch", "never");
        _hintedHandoff.AcceptOnlyFromAmong("on", "off", "true", "false");
        _readRepair.AcceptOnlyFromAmong("on", "off", "true", "false");
        _readFanout.AcceptOnlyFromAmong("quorum", "all");
        _antiEntropy.AcceptOnlyFromAmong("on", "off", "true", "false");
        Command = new Command("start", "Run a Dynamite node in the foreground until Ctrl-C (SIGINT) or SIGTERM.")
        {
            _nodeId, _listen, _http, _dataDir, _engine, _fsync, _config, _requirePass, _maxClients, _timeout, _maxValueSize, _partitionBits,
            _peerListen, _seeds, _datacenter, _rack, _clusterName, _clusterSecret, _replicationFactor, _readQuorum, _writeQuorum,
            _hintedHandoff, _readRepair, _readFanout, _requestTimeoutMs, _antiEntropy, _antiEntropyInterval, _tombstoneGrace, _handoffRate,
        };
        Command.SetAction(RunAsync);
    }

    public Command Command { get; }

    public static Command Create() => new StartCommand().Command;

    /// <summary>Defaults, then the YAML file, then flags; validated.</summary>
    /// <exception cref="ConfigurationException">A bad file, value or combination.</exception>
    public NodeConfiguration Resolve(ParseResult parseResult)
    {
        NodeConfiguration configuration = Defaults;
        string? configFile = parseResult.GetValue(_config);
        if (configFile is not null)
        {
            configuration = NodeConfigurationFile.Load(configFile).ApplyTo(configuration) with { ConfigFile = configFile };
        }

        string? fsyncText = parseResult.GetValue(_fsync);
        string? seedsText = parseResult.GetValue(_seeds);
        string? hintedHandoffText = parseResult.GetValue(_hintedHandoff);
        string? readRepairText = parseResult.GetValue(_readRepair);
        configuration = configuration with
        {
            NodeId = parseResult.GetValue(_nodeId) ?? configuration.NodeId,
            Listen = parseResult.GetValue(_listen) ?? configuration.Listen,
            Http = parseResult.GetValue(_http) ?? configuration.Http,
            DataDir = parseResult.GetValue(_dataDir) ?? configuration.DataDir,
            Engine = parseResult.GetValue(_engine) ?? configuration.Engine,
            Fsync = fsyncText is null ? configuration.Fsync : NodeConfigurationFile.ParseFsync(fsyncText),
            RequirePass = parseResult.GetValue(_requirePass) ?? configuration.RequirePass,
            MaxClients = parseResult.GetValue(_maxClients) ?? configuration.MaxClients,
            Timeout = parseResult.GetValue(_timeout) ?? configuration.Timeout,
            MaxValueSize = parseResult.GetValue(_maxValueSize) ?? configuration.MaxValueSize,
            PartitionBits = parseResult.GetValue(_partitionBits) ?? configuration.PartitionBits,
            PeerListen = parseResult.GetValue(_peerListen) ?? configuration.PeerListen,
            Seeds = seedsText is null ? configuration.Seeds : NodeConfiguration.ParseSeeds(seedsText),
            Datacenter = parseResult.GetValue(_datacenter) ?? configuration.Datacenter,
            Rack = parseResult.GetValue(_rack) ?? configuration.Rack,
            ClusterName = parseResult.GetValue(_clusterName) ?? configuration.ClusterName,
            ClusterSecret = parseResult.GetValue(_clusterSecret) ?? configuration.ClusterSecret,
            ReplicationFactor = parseResult.GetValue(_replicationFactor) ?? configuration.ReplicationFactor,
            ReadQuorum = parseResult.GetValue(_readQuorum) ?? configuration.ReadQuorum,
            WriteQuorum = parseResult.GetValue(_writeQuorum) ?? configuration.WriteQuorum,
            HintedHandoff = hintedHandoffText is null ? configuration.HintedHandoff : NodeConfiguration.ParseSwitch(hintedHandoffText, "--hinted-handoff"),
            ReadRepair = readRepairText is null ? configuration.ReadRepair : NodeConfiguration.ParseSwitch(readRepairText, "--read-repair"),
            ReadFanout = parseResult.GetValue(_readFanout) is { } fanoutText ? NodeConfiguration.ParseReadFanout(fanoutText, "--read-fanout") : configuration.ReadFanout,
            RequestTimeoutMs = parseResult.GetValue(_requestTimeoutMs) ?? configuration.RequestTimeoutMs,
            AntiEntropy = parseResult.GetValue(_antiEntropy) is { } aaeText ? NodeConfiguration.ParseSwitch(aaeText, "--aae") : configuration.AntiEntropy,
            AntiEntropyIntervalSeconds = parseResult.GetValue(_antiEntropyInterval) ?? configuration.AntiEntropyIntervalSeconds,
            TombstoneGraceSeconds = parseResult.GetValue(_tombstoneGrace) ?? configuration.TombstoneGraceSeconds,
            HandoffKeysPerSecond = parseResult.GetValue(_handoffRate) ?? configuration.HandoffKeysPerSecond,
        };
        if (configuration.MaxValueSize > configuration.ProtoMaxBulkLen)
        {
            configuration = configuration with
            {
                ProtoMaxBulkLen = configuration.MaxValueSize,
                ClientQueryBufferLimit = Math.Max(configuration.ClientQueryBufferLimit, configuration.MaxValueSize * 2),
            };
        }

        configuration.Validate();
        return configuration;
    }

    private async Task<int> RunAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        try
        {
            return await NodeHost.RunAsync(Resolve(parseResult), cancellationToken);
        }
        catch (ConfigurationException exception)
        {
            await Console.Error.WriteLineAsync("dynamite: " + exception.Message);
            return 2;
        }
        catch (IOException exception) when (exception.InnerException is System.Net.Sockets.SocketException || exception.Message.Contains("address", StringComparison.OrdinalIgnoreCase))
        {
            await Console.Error.WriteLineAsync("dynamite: cannot listen: " + exception.Message);
            return 3;
        }
    }
}
