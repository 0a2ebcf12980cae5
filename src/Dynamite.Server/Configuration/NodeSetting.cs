using System.Globalization;
using System.Reflection;

namespace Dynamite.Server.Configuration;

/// <summary>
/// One node setting: a <see cref="NodeConfiguration"/> property declared with <see cref="SettingAttribute"/>, and every
/// spelling derived from that declaration — YAML key, flag, environment variable, help text — plus its parsing and checks.
/// </summary>
public sealed class NodeSetting
{
    private const string EnvironmentPrefix = "DYNAMITE_";

    private static readonly NodeConfiguration Defaults = new();

    private readonly PropertyInfo _property;
    private readonly SettingAttribute _declaration;

    private NodeSetting(PropertyInfo property, SettingAttribute declaration)
    {
        if (!SettingParser.Supports(property.PropertyType))
        {
            throw new NotSupportedException($"Setting {declaration.Key} has type {property.PropertyType.Name}, which SettingParser does not read.");
        }

        _property = property;
        _declaration = declaration;
    }

    /// <summary>Every setting, in the order <see cref="NodeConfiguration"/> declares them (the order help lists them in).</summary>
    public static IReadOnlyList<NodeSetting> All { get; } =
    [
        .. typeof(NodeConfiguration).GetProperties()
            .Where(property => property.GetCustomAttribute<SettingAttribute>() is not null)
            .OrderBy(property => property.MetadataToken)
            .Select(property => new NodeSetting(property, property.GetCustomAttribute<SettingAttribute>()!)),
    ];

    private static readonly Dictionary<string, NodeSetting> ByKey = All.ToDictionary(setting => setting.Key, StringComparer.Ordinal);

    /// <summary>The YAML key and configuration key, e.g. <c>node-id</c>.</summary>
    public string Key => _declaration.Key;

    /// <summary>The <c>dynamite start</c> flag, e.g. <c>--node-id</c>.</summary>
    public string Flag => "--" + Key;

    /// <summary>The environment variable, e.g. <c>DYNAMITE_NODE_ID</c>.</summary>
    public string EnvironmentVariable => EnvironmentPrefix + Key.ToUpperInvariant().Replace('-', '_');

    /// <summary>Takes several values: a YAML list, or one comma-separated string anywhere.</summary>
    public bool IsList => _property.PropertyType == typeof(IReadOnlyList<string>);

    /// <summary>The description with the default, as <c>--help</c> shows it.</summary>
    public string HelpText => $"{_declaration.Description} (default: {_declaration.DefaultText ?? SettingParser.Format(ValueIn(Defaults))}).";

    /// <summary>The words a flag accepts (on/off, enum names, <see cref="SettingAttribute.OneOf"/>); empty when any text goes.</summary>
    public IReadOnlyList<string> Choices => SettingParser.ChoicesOf(_property.PropertyType, _declaration.OneOf);

    public static NodeSetting? Find(string key) => ByKey.GetValueOrDefault(key);

    public object? ValueIn(NodeConfiguration configuration) => _property.GetValue(configuration);

    /// <summary>Parses <paramref name="text"/> into this setting on <paramref name="configuration"/>, a fresh instance
    /// the caller owns (its setters are init-only; reflection sets them before the instance is shared).</summary>
    /// <exception cref="ConfigurationException">The text is not a value of this setting, named as <paramref name="spelledAs"/>.</exception>
    internal void SetIn(NodeConfiguration configuration, string text, string spelledAs) =>
        _property.SetValue(configuration, SettingParser.Parse(_property.PropertyType, text, spelledAs, _declaration.OneOf));

    /// <summary>Applies <see cref="SettingAttribute.Check"/> to this setting's value, naming the setting as
    /// <paramref name="spelledAs"/> (the layer it came from), or as the flag.</summary>
    /// <exception cref="ConfigurationException">The value fails the check.</exception>
    public void Check(NodeConfiguration configuration, string? spelledAs = null)
    {
        object? value = ValueIn(configuration);
        string setting = spelledAs ?? Flag;
        switch (_declaration.Check)
        {
            case SettingCheck.Positive when Convert.ToInt64(value, CultureInfo.InvariantCulture) < 1:
                throw new ConfigurationException($"{setting} must be a positive number of {_declaration.Unit}, not {value}.");
            case SettingCheck.ZeroOrPositive when Convert.ToInt64(value, CultureInfo.InvariantCulture) < 0:
                throw new ConfigurationException($"{setting} must be zero or a positive number of {_declaration.Unit}, not {value}.");
            case SettingCheck.Name when value is not string text || text.Length == 0 || text.Any(char.IsWhiteSpace):
                throw new ConfigurationException($"{setting} must be a non-empty name without whitespace, not '{value}'.");
            case SettingCheck.Endpoint:
                foreach (string endpoint in value as IReadOnlyList<string> ?? [(string)value!])
                {
                    EndpointParser.Parse(endpoint, setting);
                }

                break;
        }
    }
}
