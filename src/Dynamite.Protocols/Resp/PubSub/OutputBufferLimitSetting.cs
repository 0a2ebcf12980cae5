using System.Globalization;

namespace Dynamite.Protocols.Resp.PubSub;

/// <summary>
/// CONFIG GET and SET of <c>client-output-buffer-limit</c> in redis-server's syntax (<c>class hard soft seconds</c>,
/// repeated; sizes in bytes or with k/kb/m/mb/g/gb). The pubsub class bounds subscribers and MONITOR clients. Normal
/// clients are bounded by their socket instead (a node waits for a client that does not read), so that class, like
/// replica, accepts only the value it reports.
/// </summary>
public static class OutputBufferLimitSetting
{
    private const string Normal = "normal 0 0 0";
    private const string Replica = "replica 268435456 67108864 60";

    public static string Format(OutputBufferLimit pubSub)
    {
        ArgumentNullException.ThrowIfNull(pubSub);
        return string.Create(CultureInfo.InvariantCulture, $"{Normal} {Replica} pubsub {pubSub.HardBytes} {pubSub.SoftBytes} {pubSub.SoftSeconds}");
    }

    /// <summary>The pubsub limit a CONFIG SET value gives (<paramref name="current"/> when it names none); null when the value is invalid or changes another class.</summary>
    public static OutputBufferLimit? Parse(string value, OutputBufferLimit current)
    {
        ArgumentNullException.ThrowIfNull(value);
        string[] words = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0 || words.Length % 4 != 0)
        {
            return null;
        }

        OutputBufferLimit result = current;
        for (int i = 0; i < words.Length; i += 4)
        {
            if (Size(words[i + 1]) is not { } hard || Size(words[i + 2]) is not { } soft
                || !int.TryParse(words[i + 3], NumberStyles.None, CultureInfo.InvariantCulture, out int seconds))
            {
                return null;
            }

            string kind = words[i].ToLowerInvariant();
            if (kind == "pubsub")
            {
                result = new OutputBufferLimit(hard, soft, seconds);
            }
            else if ((kind == "normal" && $"normal {hard} {soft} {seconds}" != Normal)
                || (kind is "replica" or "slave" && $"replica {hard} {soft} {seconds}" != Replica)
                || kind is not ("normal" or "replica" or "slave"))
            {
                return null;
            }
        }

        return result;
    }

    /// <summary>Bytes, with redis-server's memory units; null when not a size.</summary>
    private static long? Size(string text)
    {
        string lower = text.ToLowerInvariant();
        (string digits, long unit) = lower switch
        {
            _ when lower.EndsWith("gb", StringComparison.Ordinal) => (lower[..^2], 1024L * 1024 * 1024),
            _ when lower.EndsWith("mb", StringComparison.Ordinal) => (lower[..^2], 1024L * 1024),
            _ when lower.EndsWith("kb", StringComparison.Ordinal) => (lower[..^2], 1024L),
            _ when lower.EndsWith('g') => (lower[..^1], 1000L * 1000 * 1000),
            _ when lower.EndsWith('m') => (lower[..^1], 1000L * 1000),
            _ when lower.EndsWith('k') => (lower[..^1], 1000L),
            _ => (lower, 1L),
        };
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long number) && number <= long.MaxValue / unit ? number * unit : null;
    }
}
