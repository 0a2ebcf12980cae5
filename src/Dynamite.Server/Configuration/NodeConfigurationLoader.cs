using Microsoft.Extensions.Configuration;

namespace Dynamite.Server.Configuration;

/// <summary>
/// Builds a node's configuration from its layers — defaults (<see cref="NodeConfiguration"/>'s initial values) &lt;
/// YAML file &lt; environment &lt; flags — stacked by Microsoft.Extensions.Configuration (the last layer holding a key
/// wins), then bound setting by setting into a <see cref="NodeConfiguration"/> and validated.
/// </summary>
public static class NodeConfigurationLoader
{
    /// <param name="configFile">The YAML file, if any.</param>
    /// <param name="flags">Flag values by setting key.</param>
    /// <param name="getEnvironmentVariable">Reads an environment variable (tests pass their own).</param>
    /// <exception cref="ConfigurationException">A bad file, value or combination.</exception>
    public static NodeConfiguration Load(string? configFile, IReadOnlyDictionary<string, string> flags, Func<string, string?> getEnvironmentVariable)
    {
        var builder = new ConfigurationBuilder();
        if (configFile is not null)
        {
            builder.Add(new YamlSettingsFile(configFile));
        }

        builder.Add(new EnvironmentSettings(getEnvironmentVariable));
        builder.Add(new CommandLineSettings(flags));
        NodeConfiguration configuration = WithRoomForLargestValue(Bind(builder.Build()) with { ConfigFile = configFile });
        configuration.Validate();
        return configuration;
    }

    /// <summary>Each setting a layer holds, parsed and checked from the winning layer's text (errors name it as that
    /// layer spells it); the rest keep their defaults.</summary>
    private static NodeConfiguration Bind(IConfigurationRoot layers)
    {
        var configuration = new NodeConfiguration();
        foreach (NodeSetting setting in NodeSetting.All)
        {
            if (layers[setting.Key] is { } text)
            {
                SettingsLayer source = layers.Providers.Reverse().OfType<SettingsLayer>().First(layer => layer.TryGet(setting.Key, out _));
                string spelledAs = source.Spell(setting);
                setting.SetIn(configuration, text, spelledAs);
                setting.Check(configuration, spelledAs);
            }
        }

        return configuration;
    }

    /// <summary>A value of max-value-size must fit in one bulk argument and in the client's query buffer; raising
    /// max-value-size alone raises those limits with it instead of making large values unsendable.</summary>
    private static NodeConfiguration WithRoomForLargestValue(NodeConfiguration configuration) =>
        configuration.MaxValueSize <= configuration.ProtoMaxBulkLen ? configuration : configuration with
        {
            ProtoMaxBulkLen = configuration.MaxValueSize,
            ClientQueryBufferLimit = Math.Max(configuration.ClientQueryBufferLimit, configuration.MaxValueSize * 2),
        };
}
