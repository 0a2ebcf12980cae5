using System.Text;

namespace Dynamite.Cluster.Replication;

/// <summary>Renders a key for an error message or a log line: printable ASCII as is, anything else as hex, both capped.</summary>
internal static class KeyText
{
    private const int MaxShownBytes = 64;

    public static string Format(ReadOnlySpan<byte> key)
    {
        ReadOnlySpan<byte> shown = key.Length > MaxShownBytes ? key[..MaxShownBytes] : key;
        string suffix = key.Length > MaxShownBytes ? $"... ({key.Length} bytes)" : string.Empty;
        foreach (byte b in shown)
        {
            if (b is < 0x20 or > 0x7E)
            {
                return $"0x{Convert.ToHexString(shown)}{suffix}";
            }
        }

        return $"'{Encoding.ASCII.GetString(shown)}'{suffix}";
    }
}
