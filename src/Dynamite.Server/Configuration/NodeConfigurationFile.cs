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
    };

    public static FsyncPolicy ParseFsync(string text) => text.ToLowerInvariant() switch
    {
        "always" => FsyncPolicy.Always,
        "batch" => FsyncPolicy.Batch,
        "never" => FsyncPolicy.Never,
        _ => throw new ConfigurationException($"fsync must be always, batch or never, not '{text}'."),
    };
}
