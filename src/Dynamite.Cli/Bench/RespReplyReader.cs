using System.Buffers.Text;
using System.Text;

namespace Dynamite.Cli.Bench;

/// <summary>
/// Counts RESP replies in a byte stream without keeping them: simple strings, errors, integers, bulk strings
/// (null included; payloads are skipped, even when they span many reads), arrays and maps (nested), and the
/// RESP3 scalars. It keeps state between calls, so the caller can feed whatever a read returned. A reply is an
/// error when it is an error itself or holds one. Allocates only the text of the first error seen.
/// </summary>
internal sealed class RespReplyReader
{
    private const int MaxDepth = 32;
    private readonly long[] _remaining = new long[MaxDepth];
    private int _depth;
    private long _skip;
    private bool _skipIsError;
    private bool _error;

    /// <summary>The text of the first error reply seen (for the report), or null.</summary>
    public string? FirstError { get; private set; }

    /// <summary>
    /// Reads from <paramref name="data"/> until one whole top-level reply ended (true; <paramref name="consumed"/>
    /// bytes up to its end) or the data ran out (false; <paramref name="consumed"/> may still be above 0: skipped
    /// payload bytes or headers of an unfinished array are remembered). An incomplete line is left unconsumed.
    /// </summary>
    /// <exception cref="InvalidDataException">The bytes are not RESP.</exception>
    public bool TryRead(ReadOnlySpan<byte> data, out int consumed, out bool isError)
    {
        consumed = 0;
        isError = false;
        while (true)
        {
            if (_skip > 0)
            {
                int take = (int)Math.Min(_skip, data.Length - consumed);
                consumed += take;
                _skip -= take;
                if (_skip > 0)
                {
                    return false;
                }

                if (_skipIsError)
                {
                    _error = true;
                    _skipIsError = false;
                }

                if (ElementDone(out isError))
                {
                    return true;
                }

                continue;
            }

            ReadOnlySpan<byte> rest = data[consumed..];
            int newline = rest.IndexOf((byte)'\n');
            if (newline < 0)
            {
                return false;
            }

            if (newline < 2 || rest[newline - 1] != (byte)'\r')
            {
                throw new InvalidDataException("Malformed RESP reply line: " + Printable(rest[..newline]));
            }

            ReadOnlySpan<byte> line = rest[1..(newline - 1)];
            byte type = rest[0];
            consumed += newline + 1;
            bool done;
            switch (type)
            {
                case (byte)'+' or (byte)':' or (byte)',' or (byte)'#' or (byte)'(' or (byte)'_':
                    done = ElementDone(out isError);
                    break;
                case (byte)'-':
                    _error = true;
                    FirstError ??= Encoding.UTF8.GetString(line);
                    done = ElementDone(out isError);
                    break;
                case (byte)'$' or (byte)'=' or (byte)'!':
                    {
                        long length = ParseLength(line);
                        if (length < 0)
                        {
                            done = ElementDone(out isError);
                            break;
                        }

                        _skip = length + 2;
                        _skipIsError = type == (byte)'!';
                        if (_skipIsError)
                        {
                            FirstError ??= "(blob error)";
                        }

                        continue;
                    }

                case (byte)'*' or (byte)'%' or (byte)'~' or (byte)'>':
                    {
                        long count = ParseLength(line);
                        if (type == (byte)'%')
                        {
                            count *= 2;
                        }

                        if (count <= 0)
                        {
                            done = ElementDone(out isError);
                            break;
                        }

                        if (_depth == MaxDepth)
                        {
                            throw new InvalidDataException("RESP reply nested too deep.");
                        }

                        _remaining[_depth++] = count;
                        continue;
                    }

                default:
                    throw new InvalidDataException("Unexpected RESP reply type: " + Printable(rest[..newline]));
            }

            if (done)
            {
                return true;
            }
        }
    }

    /// <summary>One element ended: count it against the open arrays; true when that finished the top-level reply.</summary>
    private bool ElementDone(out bool isError)
    {
        while (_depth > 0)
        {
            if (--_remaining[_depth - 1] > 0)
            {
                isError = false;
                return false;
            }

            _depth--;
        }

        isError = _error;
        _error = false;
        return true;
    }

    private static long ParseLength(ReadOnlySpan<byte> line)
    {
        if (!Utf8Parser.TryParse(line, out long value, out int used) || used != line.Length || value < -1)
        {
            throw new InvalidDataException("Bad RESP length: " + Printable(line));
        }

        return value;
    }

    private static string Printable(ReadOnlySpan<byte> bytes) =>
        Encoding.ASCII.GetString(bytes[..Math.Min(bytes.Length, 80)]).Replace("\r", "\\r", StringComparison.Ordinal);
}
