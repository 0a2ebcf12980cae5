using Dynamite.Storage;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Dynamite.Server.Configuration;

/// <summary>
/// The YAML configuration file: every key optional, hyphenated names (<c>node-id</c>, <c>max-value-size</c>).
/// An unknown key is an error, so a typo is reported instead of silently ignored.
/// </summary>
public sealed class NodeConfigurationFile
{
    public string? NodeId { get; set; }

    public string? Listen { get; set; }

    public string? Http { get; set; }

    public string? DataDir { get; set; }

    public string? Engine { get; set; }

    public string? Fsync { get; set; }

    public int? PartitionBits { get; set; }

    public string? Requirepass { get; set; }

    public int? Maxclients { get; set; }

    public int? Timeout { get; set; }

    public long? MaxValueSize { get; set; }

    public long? ProtoMaxBulkLen { get; set; }

    public long? ClientQueryBufferLimit { get; set; }

    public string? PeerListen { get; set; }

    /// <summary>A YAML list of HOST:PORT, or one comma-separated string; YamlDotNet gives a list of
    /// objects or a string for an <c>object</c> property, and <see cref="ParseSeeds"/> accepts both.</summary>
    public object? Seeds { get; set; }

    [YamlMember(Alias = "dc")]
    public string? Datacenter { get; set; }

    public string? Rack { get; set; }

    public string? ClusterName { get; set; }

    public string? ClusterSecret { get; set; }

    [YamlMember(Alias = "n")]
    public int? ReplicationFactor { get; set; }

    [YamlMember(Alias = "r")]
    public int? ReadQuorum { get; set; }

    [YamlMember(Alias = "w")]
    public int? WriteQuorum { get; set; }

    /// <summary>on/off/true/false: a string, because YamlDotNet reads only true/false as booleans.</summary>
    public string? HintedHandoff { get; set; }

    public string? ReadRepair { get; set; }

    /// <summary>quorum or all.</summary>
    public string? ReadFanout { get; set; }

    public int? RequestTimeoutMs { get; set; }

    public string? Aae { get; set; }

    public int? AaeInterval { get; set; }

    public int? TombstoneGrace { get; set; }

    public int? HandoffRate { get; set; }

    public static NodeConfigurationFile Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new ConfigurationException($"Configuration file '{path}' does not exist.");
        }

        IDeserializer deserializer = new DeserializerBuilder()
            .WithNamingConvention(HyphenatedNamingConvention.Instance)
            .Build();
        try
        {
            return deserializer.Deserialize<NodeConfigurationFile?>(File.ReadAllText(path)) ?? new NodeConfigurationFile();
        }
        catch (YamlException exception)
        {
            throw new ConfigurationException($"Configuration file '{path}': {exception.Message} (line {exception.Start.Line}).");
        }
    }

    /// <summary>Applies this file's keys over <paramref name="configuration"/>.</summary>
    public NodeConfiguration ApplyTo(NodeConfiguration configuration) => configuration with
    {
        NodeId = NodeId ?? configuration.NodeId,
        Listen = Listen ?? configuration.Listen,
        Http = Http ?? configuration.Http,
        DataDir = DataDir ?? configuration.DataDir,
        Engine = Engine ?? configuration.Engine,
        Fsync = Fsync is null ? configuration.Fsync : ParseFsync(Fsync),
        PartitionBits = PartitionBits ?? configuration.PartitionBits,
        RequirePass = Requirepass ?? configuration.RequirePass,
        MaxClients = Maxclients ?? configuration.MaxClients,
        Timeout = Timeout ?? configuration.Timeout,
        MaxValueSize = MaxValueSize ?? configuration.MaxValueSize,
        ProtoMaxBulkLen = ProtoMaxBulkLen ?? configuration.ProtoMaxBulkLen,
        ClientQueryBufferLimit = ClientQueryBufferLimit ?? configuration.ClientQueryBufferLimit,
        PeerListen = PeerListen ?? configuration.PeerListen,
        Seeds = Seeds is null ? configuration.Seeds : ParseSeeds(Seeds),
        Datacenter = Datacenter ?? configuration.Datacenter,
        Rack = Rack ?? configuration.Rack,
        ClusterName = ClusterName ?? configuration.ClusterName,
        ClusterSecret = ClusterSecret ?? configuration.ClusterSecret,
        ReplicationFactor = ReplicationFactor ?? configuration.ReplicationFactor,
        ReadQuorum = ReadQuorum ?? configuration.ReadQuorum,
        WriteQuorum = WriteQuorum ?? configuration.WriteQuorum,
        HintedHandoff = HintedHandoff is null ? configuration.HintedHandoff : NodeConfiguration.ParseSwitch(HintedHandoff, "hinted-handoff"),
        ReadRepair = ReadRepair is null ? configuration.ReadRepair : NodeConfiguration.ParseSwitch(ReadRepair, "read-repair"),
        ReadFanout = ReadFanout is null ? configuration.ReadFanout : NodeConfiguration.ParseReadFanout(ReadFanout, "read-fanout"),
        RequestTimeoutMs = RequestTimeoutMs ?? configuration.RequestTimeoutMs,
        AntiEntropy = Aae is null ? configuration.AntiEntropy : NodeConfiguration.ParseSwitch(Aae, "aae"),
        AntiEntropyIntervalSeconds = AaeInterval ?? configuration.AntiEntropyIntervalSeconds,
        TombstoneGraceSeconds = TombstoneGrace ?? configuration.TombstoneGraceSeconds,
        HandoffKeysPerSecond = HandoffRate ?? configuration.HandoffKeysPerSecond,
    };

    private static IReadOnlyList<string> ParseSeeds(object seeds) => seeds switch
    {
        string text => NodeConfiguration.ParseSeeds(text),
        IEnumerable<object?> list => [.. list.Select(item => item as string ?? throw new ConfigurationException($"seeds: every entry must be HOST:PORT, not '{item}'."))
            .Select(item => item.Trim()).Where(item => item.Length > 0)],
        _ => throw new ConfigurationException("seeds must be a list of HOST:PORT or one comma-separated string."),
    };

    public static FsyncPolicy ParseFsync(string text) => text.ToLowerInvariant() switch
    {
        "always" => FsyncPolicy.Always,
        "batch" => FsyncPolicy.Batch,
        "never" => FsyncPolicy.Never,
        _ => throw new ConfigurationException($"fsync must be always, batch or never, not '{text}'."),
    };
}
