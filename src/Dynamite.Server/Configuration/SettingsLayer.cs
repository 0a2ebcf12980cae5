using Microsoft.Extensions.Configuration;

namespace Dynamite.Server.Configuration;

/// <summary>
/// One source of settings in the <see cref="NodeConfigurationLoader"/>'s stack (YAML file, environment, flags): a
/// configuration provider keyed by <see cref="NodeSetting.Key"/>, which also says how the operator spelled a setting
/// there, so an error about a bad value names it the way it was written.
/// </summary>
public abstract class SettingsLayer : ConfigurationProvider, IConfigurationSource
{
    /// <summary>How a setting is written in this layer: <c>node-id</c>, <c>DYNAMITE_NODE_ID</c> or <c>--node-id</c>.</summary>
    public abstract string Spell(NodeSetting setting);

    // Each layer is built once for one load: the source is the provider itself.
    public IConfigurationProvider Build(IConfigurationBuilder builder) => this;
}

/// <summary>Settings from the environment: each setting's <see cref="NodeSetting.EnvironmentVariable"/>, and no other
/// variable (other DYNAMITE_* variables belong to the test suites).</summary>
public sealed class EnvironmentSettings(Func<string, string?> getVariable) : SettingsLayer
{
    public override string Spell(NodeSetting setting) => setting.EnvironmentVariable;

    public override void Load()
    {
        foreach (NodeSetting setting in NodeSetting.All)
        {
            // An empty variable (`DYNAMITE_N= dynamite start`, a blank compose entry) means unset, as in most shells' usage.
            if (getVariable(setting.EnvironmentVariable) is { Length: > 0 } value)
            {
                Set(setting.Key, value);
            }
        }
    }
}

/// <summary>Settings given as <c>dynamite start</c> flags, by key; the command line parser already refused unknown flags.</summary>
public sealed class CommandLineSettings(IReadOnlyDictionary<string, string> valuesByKey) : SettingsLayer
{
    public override string Spell(NodeSetting setting) => setting.Flag;

    public override void Load()
    {
        foreach ((string key, string value) in valuesByKey)
        {
            Set(key, value);
        }
    }
}
