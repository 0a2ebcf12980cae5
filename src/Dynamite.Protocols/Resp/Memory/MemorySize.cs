using System.Globalization;

namespace Dynamite.Protocols.Resp.Memory;

/// <summary>
/// redis-server's memory amounts (its <c>memtoull</c>): a count of bytes with an optional unit, <c>k</c>/<c>m</c>/<c>g</c>
/// for powers of 1000 and <c>kb</c>/<c>mb</c>/<c>gb</c> for powers of 1024, in any case.
/// </summary>
public static class MemorySize
{
    private static readonly (string Unit, long Multiplier)[] Units =
    [
        ("kb", 1L << 10), ("mb", 1L << 20), ("gb", 1L << 30), ("k", 1000), ("m", 1000 * 1000), ("g", 1000L * 1000 * 1000), ("b", 1),
    ];

    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        string lower = text.Trim().ToLowerInvariant();
        long multiplier = 1;
        foreach ((string unit, long factor) in Units)
        {
            if (lower.EndsWith(unit, StringComparison.Ordinal))
            {
                lower = lower[..^unit.Length];
                multiplier = factor;
                break;
            }
        }

        if (lower.Length == 0 || !long.TryParse(lower, NumberStyles.None, CultureInfo.InvariantCulture, out long count))
        {
            return false;
        }

        try
        {
            bytes = checked(count * multiplier);
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    /// <summary>As INFO's <c>_human</c> fields: 1.50M, 0B.</summary>
    public static string Human(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("0.00", CultureInfo.InvariantCulture) + "G",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.00", CultureInfo.InvariantCulture) + "M",
        >= 1L << 10 => (bytes / (double)(1L << 10)).ToString("0.00", CultureInfo.InvariantCulture) + "K",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + "B",
    };
}
