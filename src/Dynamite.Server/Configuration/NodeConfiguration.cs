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

    /// <summary>The file the configuration came from, if any.</summary>
    public string? ConfigFile { get; init; }

    public string ResolvedDataDir => DataDir ?? Path.Combine("data", NodeId);
}
