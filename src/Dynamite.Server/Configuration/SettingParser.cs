using System.Globalization;

namespace Dynamite.Server.Configuration;

/// <summary>
/// Turns a setting's text — from the YAML file, the environment or a flag, all strings by then — into the
/// property's type, and a value back into text for help. Errors name the setting as the operator spelled it.
/// </summary>
public static class SettingParser
{
    /// <summary>The words a switch accepts (any case; YAML 1.1 and operators use all of them), and what each means.</summary>
    private static readonly Dictionary<string, bool> SwitchWords = new(StringComparer.OrdinalIgnoreCase)
    {
        ["on"] = true,
        ["off"] = false,
        ["true"] = true,
        ["false"] = false,
        ["yes"] = true,
        ["no"] = false,
    };

    /// <summary>The types a setting may have; anything else is a mistake in <see cref="NodeConfiguration"/>.</summary>
    public static bool Supports(Type type) =>
        type == typeof(string) || type == typeof(int) || type == typeof(long) || type == typeof(bool) || type.IsEnum
        || type == typeof(IReadOnlyList<string>);

    /// <exception cref="ConfigurationException">The text is not a value of <paramref name="type"/>.</exception>
    public static object Parse(Type type, string text, string spelledAs, string? oneOf = null)
    {
        if (type == typeof(string))
        {
            return oneOf is null ? text : ParseChoice(oneOf.Split('|'), text, spelledAs);
        }

        if (type == typeof(int) || type == typeof(long))
        {
            if (!long.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long number))
            {
                throw new ConfigurationException($"{spelledAs} must be a whole number, not '{text}'.");
            }

            return type == typeof(long) ? (object)number
                : number is >= int.MinValue and <= int.MaxValue ? (int)number
                : throw new ConfigurationException($"{spelledAs} must be at most {int.MaxValue}, not {number}.");
        }

        if (type == typeof(bool))
        {
            return ParseSwitch(text, spelledAs);
        }

        if (type.IsEnum)
        {
            string choice = ParseChoice(ChoicesOf(type), text, spelledAs);
            return Enum.Parse(type, choice, ignoreCase: true);
        }

        if (type == typeof(IReadOnlyList<string>))
        {
            return SplitList(text);
        }

        throw new NotSupportedException($"Setting {spelledAs} has type {type.Name}, which SettingParser does not read.");
    }

    private static bool ParseSwitch(string text, string spelledAs) =>
        SwitchWords.TryGetValue(text.Trim(), out bool on) ? on : throw new ConfigurationException($"{spelledAs} must be on or off, not '{text}'.");

    /// <summary>Splits a comma-separated list (<c>HOST:PORT,HOST:PORT</c>), ignoring blanks around commas.</summary>
    public static IReadOnlyList<string> SplitList(string text) =>
        text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The words a flag of <paramref name="type"/> accepts, offered as completions; empty when any text goes.</summary>
    public static IReadOnlyList<string> ChoicesOf(Type type, string? oneOf = null) =>
        oneOf is not null ? oneOf.Split('|')
        : type == typeof(bool) ? [.. SwitchWords.Keys]
        : type.IsEnum ? [.. Enum.GetNames(type).Select(name => name.ToLowerInvariant())]
        : [];

    /// <summary>A value as help shows it: on/off, lower-case enum names, "none" for no value.</summary>
    public static string Format(object? value) => value switch
    {
        null => "none",
        bool on => on ? "on" : "off",
        Enum choice => choice.ToString().ToLowerInvariant(),
        IReadOnlyList<string> list => list.Count == 0 ? "none" : string.Join(',', list),
        IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "none",
    };

    private static string ParseChoice(IReadOnlyList<string> choices, string text, string spelledAs)
    {
        string trimmed = text.Trim();
        return choices.FirstOrDefault(choice => choice.Equals(trimmed, StringComparison.OrdinalIgnoreCase))
            ?? throw new ConfigurationException($"{spelledAs} must be {JoinChoices(choices)}, not '{text}'.");
    }

    /// <summary>"a or b", "a, b or c".</summary>
    private static string JoinChoices(IReadOnlyList<string> choices) =>
        choices.Count == 1 ? choices[0] : string.Join(", ", choices.Take(choices.Count - 1)) + " or " + choices[^1];
}
