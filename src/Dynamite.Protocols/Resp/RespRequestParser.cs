using System.Buffers;

namespace Dynamite.Protocols.Resp;

/// <summary>
/// Frames RESP requests the way redis-server's processMultibulkBuffer and processInlineBuffer do:
/// multibulk arrays of bulk strings, and inline (telnet-style) lines with sdssplitargs quoting.
/// Errors carry redis-server's messages. Returns false on an incomplete request without consuming anything.
/// </summary>
internal static class RespRequestParser
{
    /// <summary>Limits a client that has not authenticated yet, as redis-server does, so it cannot make us buffer much.</summary>
    private const int UnauthenticatedMaxMultibulkLength = 10;
    private const int UnauthenticatedMaxBulkBytes = 16 * 1024;

    /// <summary>
    /// Parses one request from the front of <paramref name="buffer"/>. On success the buffer is advanced past it;
    /// an empty request (blank inline line, <c>*0</c>) succeeds with <see cref="RespRequest.Count"/> 0.
    /// </summary>
    public static bool TryParse(ref ReadOnlySequence<byte> buffer, RespRequest request, RespLimits limits, bool unauthenticated)
    {
        request.Clear();
        if (buffer.IsEmpty)
        {
            return false;
        }

        // Fast path: a whole multibulk request in the first segment, parsed from a span with no reader at all.
        ReadOnlySpan<byte> first = buffer.FirstSpan;
        if (!first.IsEmpty && first[0] == (byte)'*')
        {
            int consumed = TryParseMultibulkInSegment(buffer.First, request, limits, unauthenticated);
            if (consumed > 0)
            {
                buffer = buffer.Slice(consumed);
                return true;
            }

            request.Clear();
        }

        // A sequence may begin with an empty segment (any producer may build one); the reader skips it, FirstSpan does not.
        var reader = new SequenceReader<byte>(buffer);
        reader.TryPeek(out byte marker);
        bool complete = marker == (byte)'*'
            ? TryParseMultibulk(ref reader, request, limits, unauthenticated)
            : TryParseInline(ref reader, request, limits);
        if (complete)
        {
            buffer = buffer.Slice(reader.Position);
        }
        else
        {
            request.Clear();
        }

        return complete;
    }

    /// <summary>
    /// The fast path: a well-formed request lying wholly in the first buffer segment, parsed over a span.
    /// Returns the bytes consumed, or 0 for anything else (incomplete, split, malformed, over a limit), which the
    /// general path then handles and reports.
    /// </summary>
    private static int TryParseMultibulkInSegment(ReadOnlyMemory<byte> segment, RespRequest request, RespLimits limits, bool unauthenticated)
    {
        ReadOnlySpan<byte> span = segment.Span;
        int position = 1;
        if (!TryReadDecimalLine(span, ref position, out long count) || count <= 0 || count > limits.MaxMultibulkLength
            || (unauthenticated && count > UnauthenticatedMaxMultibulkLength))
        {
            return 0;
        }

        for (long i = 0; i < count; i++)
        {
            if (position >= span.Length || span[position] != (byte)'$')
            {
                return 0;
            }

            position++;
            if (!TryReadDecimalLine(span, ref position, out long length) || length < 0 || length > limits.MaxBulkBytes
                || (unauthenticated && length > UnauthenticatedMaxBulkBytes) || span.Length - position < length + 2)
            {
                return 0;
            }

            request.Add(segment.Slice(position, (int)length), owned: false);
            position += (int)length + 2;
        }

        return position;
    }

    /// <summary>Reads a decimal terminated by CRLF at <paramref name="position"/>, with string2ll's rules.</summary>
    private static bool TryReadDecimalLine(ReadOnlySpan<byte> span, ref int position, out long value)
    {
        value = 0;
        ReadOnlySpan<byte> rest = span[position..];
        int end = rest.Length > 24 ? rest[..24].IndexOf((byte)'\r') : rest.IndexOf((byte)'\r');
        if (end <= 0 || end + 1 >= rest.Length || rest[end + 1] != (byte)'\n' || !RespNumbers.TryParseInt64(rest[..end], out value))
        {
            return false;
        }

        position += end + 2;
        return true;
    }

    private static bool TryParseMultibulk(ref SequenceReader<byte> reader, RespRequest request, RespLimits limits, bool unauthenticated)
    {
        reader.Advance(1);
        if (!TryReadHeaderLine(ref reader, limits, "ERR Protocol error: too big mbulk count string", out long count))
        {
            return false;
        }

        if (count == long.MinValue || count > limits.MaxMultibulkLength)
        {
            throw new RespProtocolException("ERR Protocol error: invalid multibulk length");
        }

        if (unauthenticated && count > UnauthenticatedMaxMultibulkLength)
        {
            throw new RespProtocolException("ERR Protocol error: unauthenticated multibulk length");
        }

        for (long i = 0; i < count; i++)
        {
            if (!reader.TryRead(out byte marker))
            {
                return false;
            }

            if (marker != (byte)'$')
            {
                throw new RespProtocolException($"ERR Protocol error: expected '$', got '{(char)marker}'");
            }

            if (!TryReadHeaderLine(ref reader, limits, "ERR Protocol error: too big bulk count string", out long length))
            {
                return false;
            }

            if (length < 0 || length > limits.MaxBulkBytes)
            {
                throw new RespProtocolException("ERR Protocol error: invalid bulk length");
            }

            if (unauthenticated && length > UnauthenticatedMaxBulkBytes)
            {
                throw new RespProtocolException("ERR Protocol error: unauthenticated bulk length");
            }

            if (reader.Remaining < length + 2)
            {
                return false;
            }

            ReadOnlySequence<byte> argument = reader.UnreadSequence.Slice(0, length);
            if (argument.IsSingleSegment)
            {
                request.Add(argument.First, owned: false);
            }
            else
            {
                request.Add(argument.ToArray(), owned: true);
            }

            // Like redis-server, the two bytes after a bulk string are skipped, not checked.
            reader.Advance(length + 2);
        }

        return true;
    }

    /// <summary>
    /// Reads the decimal after a '*' or '$' up to CRLF. Returns false when the line is incomplete;
    /// <paramref name="value"/> is <see cref="long.MinValue"/> when the line is not a valid integer.
    /// </summary>
    private static bool TryReadHeaderLine(ref SequenceReader<byte> reader, RespLimits limits, string tooBigMessage, out long value)
    {
        value = long.MinValue;
        if (!reader.TryReadTo(out ReadOnlySpan<byte> line, (byte)'\r', advancePastDelimiter: true))
        {
            if (reader.Remaining > limits.MaxInlineBytes)
            {
                throw new RespProtocolException(tooBigMessage);
            }

            return false;
        }

        if (!reader.TryRead(out byte newline))
        {
            return false;
        }

        if (newline != (byte)'\n')
        {
            return true;
        }

        if (RespNumbers.TryParseInt64(line, out long parsed))
        {
            value = parsed;
        }

        return true;
    }

    private static bool TryParseInline(ref SequenceReader<byte> reader, RespRequest request, RespLimits limits)
    {
        if (!reader.TryReadTo(out ReadOnlySequence<byte> lineSequence, (byte)'\n', advancePastDelimiter: true))
        {
            if (reader.Remaining > limits.MaxInlineBytes)
            {
                throw new RespProtocolException("ERR Protocol error: too big inline request");
            }

            return false;
        }

        if (lineSequence.Length > limits.MaxInlineBytes)
        {
            throw new RespProtocolException("ERR Protocol error: too big inline request");
        }

        ReadOnlySpan<byte> line = lineSequence.IsSingleSegment ? lineSequence.FirstSpan : lineSequence.ToArray();
        if (line.Length > 0 && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }

        if (!InlineArgumentSplitter.TrySplit(line, request))
        {
            throw new RespProtocolException("ERR Protocol error: unbalanced quotes in request");
        }

        return true;
    }
}
