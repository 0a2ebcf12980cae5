using System.Text;

namespace Dynamite.Core.Membership;

/// <summary>
/// The identity of a cluster member. It appears in partition maps, preference lists and every
/// version vector entry, so it is compared ordinally (culture-independent, the same on every node)
/// and kept short: at most <see cref="MaxByteLength"/> bytes of UTF-8 and no whitespace, so it
/// prints unambiguously in logs and fits a one-byte length prefix on the wire.
/// </summary>
public readonly record struct NodeId : IComparable<NodeId>
{
    /// <summary>Upper bound on the UTF-8 length; the binary encodings rely on it fitting one byte.</summary>
    public const int MaxByteLength = 64;

    public NodeId(string value)
    {
        Value = Validate(value);
    }

    /// <summary>The id; null only for <c>default(NodeId)</c>, which no constructor produces.</summary>
    public string Value { get; }

    public static bool operator <(NodeId left, NodeId right) => left.CompareTo(right) < 0;

    public static bool operator <=(NodeId left, NodeId right) => left.CompareTo(right) <= 0;

    public static bool operator >(NodeId left, NodeId right) => left.CompareTo(right) > 0;

    public static bool operator >=(NodeId left, NodeId right) => left.CompareTo(right) >= 0;

    /// <summary>Returns false, instead of throwing, for a value the constructor would reject.</summary>
    public static bool TryCreate(string? value, out NodeId id)
    {
        if (Problem(value) is null)
        {
            id = new NodeId(value!);
            return true;
        }

        id = default;
        return false;
    }

    public int CompareTo(NodeId other) => string.CompareOrdinal(Value, other.Value);

    public override string ToString() => Value ?? string.Empty;

    private static string Validate(string value)
    {
        string? problem = Problem(value);
        if (problem is not null)
        {
            throw new ArgumentException(problem, nameof(value));
        }

        return value;
    }

    private static string? Problem(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "A node id must not be empty.";
        }

        foreach (char c in value)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                return $"A node id must not contain whitespace or control characters: '{value}'.";
            }
        }

        // GetByteCount throws on lone surrogates, which cannot round-trip through UTF-8 anyway.
        int bytes;
        try
        {
            bytes = Encoding.UTF8.GetByteCount(value);
        }
        catch (EncoderFallbackException)
        {
            return "A node id must be valid UTF-16 (no lone surrogates).";
        }

        return bytes > MaxByteLength ? $"A node id must be at most {MaxByteLength} bytes of UTF-8, got {bytes}." : null;
    }
}
