using System.Buffers.Text;

namespace Dynamite.Protocols.Resp.Tracking;

/// <summary>
/// What a tracking client receives when keys it may have cached change: a RESP3 push <c>invalidate</c> with the keys (a
/// null for "everything", after FLUSHALL), or, redirected to a RESP2 client subscribed to <c>__redis__:invalidate</c>, a
/// pub/sub <c>message</c> on that channel whose payload is the array of keys, as redis-server sends them.
/// </summary>
internal static class InvalidationFrames
{
    public const string Channel = "__redis__:invalidate";

    /// <summary>The push or message for <paramref name="keys"/> (null: every key).</summary>
    public static byte[] For(bool resp3, IReadOnlyList<byte[]>? keys)
    {
        var frame = new List<byte>(64);
        Append(frame, resp3 ? ">2\r\n"u8 : "*3\r\n$7\r\nmessage\r\n"u8);
        if (resp3)
        {
            Append(frame, "$10\r\ninvalidate\r\n"u8);
        }
        else
        {
            Append(frame, "$20\r\n__redis__:invalidate\r\n"u8);
        }

        if (keys is null)
        {
            Append(frame, resp3 ? "_\r\n"u8 : "*-1\r\n"u8);
            return [.. frame];
        }

        AppendLength(frame, (byte)'*', keys.Count);
        foreach (byte[] key in keys)
        {
            AppendLength(frame, (byte)'$', key.Length);
            Append(frame, key);
            Append(frame, "\r\n"u8);
        }

        return [.. frame];
    }

    /// <summary>RESP3's notice to a client whose redirect target <paramref name="targetId"/> is gone.</summary>
    public static byte[] RedirectBroken(long targetId)
    {
        var frame = new List<byte>(48);
        Append(frame, ">2\r\n$21\r\ntracking-redir-broken\r\n"u8);
        Span<byte> digits = stackalloc byte[24];
        Utf8Formatter.TryFormat(targetId, digits, out int written);
        frame.Add((byte)':');
        Append(frame, digits[..written]);
        Append(frame, "\r\n"u8);
        return [.. frame];
    }

    private static void Append(List<byte> frame, ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
        {
            frame.Add(b);
        }
    }

    private static void AppendLength(List<byte> frame, byte type, int length)
    {
        Span<byte> digits = stackalloc byte[12];
        Utf8Formatter.TryFormat(length, digits, out int written);
        frame.Add(type);
        Append(frame, digits[..written]);
        Append(frame, "\r\n"u8);
    }
}
