using System.Buffers;
using System.Buffers.Text;
using System.IO.Pipelines;
using System.Text;

namespace Dynamite.Protocols.Resp;

/// <summary>
/// Writes replies straight into the connection's output pipe, in RESP2 or, after <c>HELLO 3</c>, RESP3.
/// Nothing is flushed here: the session flushes once per batch of requests (PERFORMANCE.md).
/// Reused by its session; not thread-safe.
/// </summary>
public sealed class RespWriter
{
    private static readonly byte[] Crlf = "\r\n"u8.ToArray();
    private PipeWriter _output = null!;
    private bool _suppressed;
    private bool _pushing;
    private bool _discard;

    /// <summary>2 or 3.</summary>
    public int ProtocolVersion { get; set; } = 2;

    public bool IsResp3 => ProtocolVersion == 3;

    /// <summary>What the reply since <see cref="BeginReply"/> began with, for keyspace notifications: an error, a null, or an integer.</summary>
    public ReplyStart FirstReply { get; private set; }

    /// <summary>The integer the reply began with, when <see cref="FirstReply"/> is <see cref="ReplyStart.Number"/>.</summary>
    public long FirstInteger { get; private set; }

    /// <summary>Starts watching a reply's first element (<see cref="FirstReply"/>).</summary>
    public void BeginReply() => FirstReply = ReplyStart.Nothing;

    /// <summary>CLIENT REPLY OFF or SKIP: replies are dropped, but what is written while <see cref="Pushing"/> still goes out.</summary>
    public bool Suppressed
    {
        get => _suppressed;
        set
        {
            _suppressed = value;
            _discard = _suppressed && !_pushing;
        }
    }

    /// <summary>True while writing a push (a subscription confirmation, a message), which CLIENT REPLY does not silence.</summary>
    public bool Pushing
    {
        get => _pushing;
        set
        {
            _pushing = value;
            _discard = _suppressed && !_pushing;
        }
    }

    /// <summary>Bytes written since the last flush.</summary>
    public long UnflushedBytes => _output.CanGetUnflushedBytes ? _output.UnflushedBytes : 0;

    public void Attach(PipeWriter output) => _output = output;

    public void WriteOk() => WriteRaw("+OK\r\n"u8);

    public void WriteSimpleString(string text)
    {
        WriteRawByte((byte)'+');
        WriteAscii(text);
        WriteRaw(Crlf);
    }

    public void WriteSimpleString(ReadOnlySpan<byte> text)
    {
        WriteRawByte((byte)'+');
        WriteRaw(text);
        WriteRaw(Crlf);
    }

    /// <summary>Writes an error; <paramref name="message"/> starts with its code ("ERR ...", "WRONGTYPE ...").</summary>
    public void WriteError(string message)
    {
        if (FirstReply == ReplyStart.Nothing)
        {
            FirstReply = ReplyStart.Error;
        }

        WriteRawByte((byte)'-');
        // An error line must not break the framing: CR and LF become spaces, as redis-server does.
        WriteAscii(message.Replace('\r', ' ').Replace('\n', ' '));
        WriteRaw(Crlf);
    }

    public void WriteInteger(long value)
    {
        if (FirstReply == ReplyStart.Nothing)
        {
            FirstReply = ReplyStart.Number;
            FirstInteger = value;
        }

        WritePrefixedNumber((byte)':', value);
    }

    public void WriteBulk(ReadOnlySpan<byte> value)
    {
        WritePrefixedNumber((byte)'$', value.Length);
        WriteRaw(value);
        WriteRaw(Crlf);
    }

    public void WriteBulk(string value) => WriteBulk(Encoding.UTF8.GetBytes(value));

    public void WriteBulk(long value)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, digits, out int written);
        WriteBulk(digits[..written]);
    }

    /// <summary>A missing value: $-1 in RESP2, _ in RESP3.</summary>
    public void WriteNull()
    {
        if (FirstReply == ReplyStart.Nothing)
        {
            FirstReply = ReplyStart.Null;
        }

        WriteRaw(IsResp3 ? "_\r\n"u8 : "$-1\r\n"u8);
    }

    /// <summary>A missing array: *-1 in RESP2, _ in RESP3.</summary>
    public void WriteNullArray()
    {
        if (FirstReply == ReplyStart.Nothing)
        {
            FirstReply = ReplyStart.Null;
        }

        WriteRaw(IsResp3 ? "_\r\n"u8 : "*-1\r\n"u8);
    }

    public void WriteArrayHeader(int count)
    {
        if (FirstReply == ReplyStart.Nothing)
        {
            FirstReply = ReplyStart.Array;
            FirstInteger = count;
        }

        WritePrefixedNumber((byte)'*', count);
    }

    /// <summary>A map of <paramref name="pairs"/> entries: % in RESP3, a flat array of 2n elements in RESP2.</summary>
    public void WriteMapHeader(int pairs)
    {
        if (IsResp3)
        {
            WritePrefixedNumber((byte)'%', pairs);
        }
        else
        {
            WritePrefixedNumber((byte)'*', pairs * 2);
        }
    }

    /// <summary>A set: ~ in RESP3, an array in RESP2.</summary>
    public void WriteSetHeader(int count) => WritePrefixedNumber(IsResp3 ? (byte)'~' : (byte)'*', count);

    /// <summary>Text meant for humans (INFO): a verbatim string in RESP3, a bulk string in RESP2.</summary>
    public void WriteVerbatimText(string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        if (!IsResp3)
        {
            WriteBulk(bytes);
            return;
        }

        WritePrefixedNumber((byte)'=', bytes.Length + 4);
        WriteRaw("txt:"u8);
        WriteRaw(bytes);
        WriteRaw(Crlf);
    }

    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        if (_discard)
        {
            return;
        }

        if (bytes.Length <= 4096)
        {
            Span<byte> span = _output.GetSpan(bytes.Length);
            bytes.CopyTo(span);
            _output.Advance(bytes.Length);
        }
        else
        {
            _output.Write(bytes);
        }
    }

    private void WriteRawByte(byte value)
    {
        if (_discard)
        {
            return;
        }

        Span<byte> span = _output.GetSpan(1);
        span[0] = value;
        _output.Advance(1);
    }

    private void WriteAscii(string text)
    {
        if (_discard)
        {
            return;
        }

        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (max <= 4096)
        {
            Span<byte> span = _output.GetSpan(max);
            int written = Encoding.UTF8.GetBytes(text, span);
            _output.Advance(written);
        }
        else
        {
            _output.Write(Encoding.UTF8.GetBytes(text));
        }
    }

    private void WritePrefixedNumber(byte prefix, long value)
    {
        if (_discard)
        {
            return;
        }

        Span<byte> span = _output.GetSpan(24);
        span[0] = prefix;
        Utf8Formatter.TryFormat(value, span[1..], out int written);
        span[written + 1] = (byte)'\r';
        span[written + 2] = (byte)'\n';
        _output.Advance(written + 3);
    }
}

/// <summary>How a reply began (<see cref="RespWriter.FirstReply"/>); <see cref="Nothing"/> covers every other kind.</summary>
public enum ReplyStart
{
    Nothing,
    Error,
    Null,
    Number,

    /// <summary>An array; <see cref="RespWriter.FirstInteger"/> holds its length.</summary>
    Array,
}
