namespace Dynamite.Core.Wire;

/// <summary>Value equality and hashing for an optional byte array (a value, or null for none), as stored values compare.</summary>
internal static class NullableBytes
{
    public static bool Equal(byte[]? x, byte[]? y) => x is null ? y is null : y is not null && x.AsSpan().SequenceEqual(y);

    public static void AddTo(ref HashCode hash, byte[]? bytes)
    {
        if (bytes is null)
        {
            hash.Add(-1);
        }
        else
        {
            hash.AddBytes(bytes);
        }
    }
}
