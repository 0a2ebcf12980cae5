namespace Dynamite.Protocols.Resp.Commands;

/// <summary>ASCII case-insensitive equality for command names, with span lookups so dispatch never allocates.</summary>
internal sealed class AsciiCaseInsensitiveComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
{
    public static AsciiCaseInsensitiveComparer Instance { get; } = new();

    public bool Equals(byte[]? x, byte[]? y) => x is not null && y is not null && Equals((ReadOnlySpan<byte>)x, y);

    public int GetHashCode(byte[] obj) => GetHashCode((ReadOnlySpan<byte>)obj);

    public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => System.Text.Ascii.EqualsIgnoreCase(alternate, other);

    public int GetHashCode(ReadOnlySpan<byte> alternate)
    {
        // FNV-1a over lower-cased letters; command names are short.
        uint hash = 2166136261;
        foreach (byte b in alternate)
        {
            hash = (hash ^ (uint)(b | 0x20)) * 16777619;
        }

        return (int)hash;
    }

    public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
}
