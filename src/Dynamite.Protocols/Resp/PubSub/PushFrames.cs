using System.Buffers.Text;

namespace Dynamite.Protocols.Resp.PubSub;

/// <summary>
/// The frames a subscriber receives without asking: <c>message</c>, <c>pmessage</c> and <c>smessage</c>, as a RESP2
/// array or a RESP3 push. Encoded once per message and shared, read-only, by every subscriber of the same protocol.
/// </summary>
internal static class PushFrames
{
    public static byte[] Message(bool resp3, ReadOnlySpan<byte> kind, ReadOnlySpan<byte> channel, ReadOnlySpan<byte> payload) =>
        Encode(resp3, kind, [], channel, payload, withPattern: false);

    public static byte[] PatternMessage(bool resp3, ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> channel, ReadOnlySpan<byte> payload) =>
        Encode(resp3, "pmessage"u8, pattern, channel, payload, withPattern: true);

    /// <summary>A RESP3 push or RESP2 array of bulk strings (MONITOR's lines are simple strings and are not framed here).</summary>
    private static byte[] Encode(bool resp3, ReadOnlySpan<byte> kind, ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> channel, ReadOnlySpan<byte> payload, bool withPattern)
    {
        int length = HeaderLength(withPattern ? 4 : 3) + BulkLength(kind.Length) + BulkLength(channel.Length) + BulkLength(payload.Length)
            + (withPattern ? BulkLength(pattern.Length) : 0);
        var frame = new byte[length];
        Span<byte> output = frame;
        output[0] = resp3 ? (byte)'>' : (byte)'*';
        output[1] = withPattern ? (byte)'4' : (byte)'3';
        output[2] = (byte)'\r';
        output[3] = (byte)'\n';
        int position = 4;
        position += WriteBulk(output[position..], kind);
        if (withPattern)
        {
            position += WriteBulk(output[position..], pattern);
        }

        position += WriteBulk(output[position..], channel);
        WriteBulk(output[position..], payload);
        return frame;
    }

    private static int HeaderLength(int count) => 4 + (count >= 10 ? 1 : 0);

    private static int BulkLength(int length) => 1 + Digits(length) + 2 + length + 2;

    private static int Digits(int value)
    {
        int digits = 1;
        while (value >= 10)
        {
            value /= 10;
            digits++;
        }

        return digits;
    }

    private static int WriteBulk(Span<byte> output, ReadOnlySpan<byte> value)
    {
        output[0] = (byte)'$';
        Utf8Formatter.TryFormat(value.Length, output[1..], out int digits);
        int position = 1 + digits;
        output[position++] = (byte)'\r';
        output[position++] = (byte)'\n';
        value.CopyTo(output[position..]);
        position += value.Length;
        output[position++] = (byte)'\r';
        output[position++] = (byte)'\n';
        return position;
    }
}
