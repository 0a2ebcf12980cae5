namespace Dynamite.Server.Configuration;

/// <summary>
/// Declares a <see cref="NodeConfiguration"/> property as a node setting. This one declaration is the only place a
/// setting is spelled: its key is the YAML key, <c>--key</c> the <c>dynamite start</c> flag and <c>DYNAMITE_KEY</c>
/// the environment variable; the description (with the property's default appended) is the help text;
/// <see cref="Check"/> is its validation. The property's type says how a value is parsed (<see cref="SettingParser"/>).
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false)]
public sealed class SettingAttribute(string key, string description) : Attribute
{
    /// <summary>Hyphenated name, e.g. <c>node-id</c>.</summary>
    public string Key { get; } = key;

    /// <summary>What the setting does, for <c>--help</c>; one sentence without the default and without a final period.</summary>
    public string Description { get; } = description;

    /// <summary>What a parsed value must satisfy beyond its type.</summary>
    public SettingCheck Check { get; set; }

    /// <summary>The unit named in <see cref="SettingCheck.Positive"/> and <see cref="SettingCheck.ZeroOrPositive"/> errors, e.g. "seconds".</summary>
    public string? Unit { get; set; }

    /// <summary>For a text setting with a fixed set of values: those values, separated by '|' (e.g. "sqlite|memory").</summary>
    public string? OneOf { get; set; }

    /// <summary>The default as shown in help, where the property's initial value does not say it (e.g. one computed later).</summary>
    public string? DefaultText { get; set; }
}

/// <summary>Per-setting validation; rules relating several settings live in <see cref="NodeConfiguration.Validate"/>.</summary>
public enum SettingCheck
{
    None = 0,

    /// <summary>A number of at least 1.</summary>
    Positive,

    /// <summary>A number of at least 0.</summary>
    ZeroOrPositive,

    /// <summary>A non-empty name without whitespace (datacenter, rack, cluster name).</summary>
    Name,

    /// <summary>HOST:PORT (each entry, for a list).</summary>
    Endpoint,
}
