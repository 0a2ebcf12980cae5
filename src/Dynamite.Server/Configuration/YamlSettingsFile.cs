using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Dynamite.Server.Configuration;

/// <summary>
/// Settings from the YAML file: a mapping of setting keys (<c>node-id: n1</c>) to scalars, or to a list for list
/// settings (<c>seeds</c>; a comma-separated string works too). An unknown key is an error, so a typo is reported
/// instead of silently ignored; an empty value (<c>requirepass:</c>, <c>~</c>) leaves the setting at its default.
/// Read with YamlDotNet's node model rather than a YAML configuration package, which would flatten any key it finds.
/// </summary>
public sealed class YamlSettingsFile(string path) : SettingsLayer
{
    public override string Spell(NodeSetting setting) => setting.Key;

    /// <exception cref="ConfigurationException">No such file, bad YAML (a key given twice too), an unknown key or a value of the wrong shape.</exception>
    public override void Load()
    {
        if (!File.Exists(path))
        {
            throw new ConfigurationException($"Configuration file '{path}' does not exist.");
        }

        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(File.ReadAllText(path)));
        }
        catch (YamlException exception)
        {
            throw Problem(exception.Message, exception.Start);
        }

        if (stream.Documents.Count == 0 || IsEmpty(stream.Documents[0].RootNode))
        {
            return;
        }

        if (stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw Problem("expected keys and values such as 'node-id: n1'", stream.Documents[0].RootNode.Start);
        }

        foreach ((YamlNode keyNode, YamlNode valueNode) in root.Children)
        {
            string key = (keyNode as YamlScalarNode)?.Value ?? "";
            NodeSetting setting = NodeSetting.Find(key)
                ?? throw Problem($"unknown key '{key}' (the keys are the `dynamite start --help` flags without the dashes)", keyNode.Start);
            if (ValueOf(setting, valueNode) is { } value)
            {
                Set(key, value);
            }
        }
    }

    /// <summary>The value's text; a list is joined with commas, which list settings split again.</summary>
    private string? ValueOf(NodeSetting setting, YamlNode node)
    {
        if (IsEmpty(node))
        {
            return null;
        }

        if (node is YamlScalarNode scalar)
        {
            return scalar.Value;
        }

        if (node is YamlSequenceNode list && setting.IsList)
        {
            return string.Join(',', list.Children.Select(item => item is YamlScalarNode { Value: { } text }
                ? text
                : throw Problem($"{setting.Key}: every entry must be a single value", item.Start)));
        }

        throw Problem($"{setting.Key} takes a single value{(setting.IsList ? " or a list" : "")}", node.Start);
    }

    /// <summary>A key with nothing after it, or ~ / null: YAML's null, which the YAML deserializer used to skip too.</summary>
    private static bool IsEmpty(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain, Value: null or "" or "~" or "null" or "Null" or "NULL" };

    private ConfigurationException Problem(string message, Mark where) =>
        new($"Configuration file '{path}': {message} (line {where.Line}).");
}
