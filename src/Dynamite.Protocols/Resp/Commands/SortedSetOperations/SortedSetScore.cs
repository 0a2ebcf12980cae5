using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Dynamite.Core.DataTypes;

namespace Dynamite.Protocols.Resp.Commands.SortedSetOperations;

/// <summary>
/// A sorted-set member's score as it is stored, parsed and written (docs/DATA-TYPES.md, "Sorted sets"). The member is an
/// element whose register holds the score as 8 bytes (the IEEE 754 bits, big-endian); on a cluster node <c>ZINCRBY</c>
/// adds a float counter write instead, so concurrent increments through several nodes all count. The score is the
/// register's value (0 without one) plus what the live counter chains added, summed in chain order so that every
/// replica computes the same bits. Parsing and formatting follow redis-server 7.0: <c>strtod</c>'s syntax without
/// leading space, no NaN, no overflow; replies in <c>%.17g</c>, <c>inf</c> and <c>-inf</c>.
/// </summary>
internal static class SortedSetScore
{
    public const int EncodedLength = sizeof(double);

    public static byte[] Encode(double score)
    {
        byte[] encoded = new byte[EncodedLength];
        BinaryPrimitives.WriteDoubleBigEndian(encoded, score);
        return encoded;
    }

    /// <summary>The register's score; 0 for a value that is not one (a member written without a score has none).</summary>
    public static double Decode(ReadOnlySpan<byte> encoded) => ScoreIndex.DecodeRegister(encoded);

    /// <summary>The score a member's state holds: the register's plus the counter chains'.</summary>
    public static double Of(ElementState state) => ScoreIndex.ScoreOf(state);

    /// <summary>A member's stored state, decoded, as its score.</summary>
    public static double OfEncodedState(byte[] encodedState) => Of(ElementState.Decode(encodedState));

    /// <summary>
    /// A score argument (ZADD, ZINCRBY), as redis-server's <c>getDoubleFromObject</c> accepts it: all of the text is a
    /// number in <c>strtod</c>'s syntax, no leading space, not NaN, not out of range.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out double score)
    {
        score = 0;
        if (text.IsEmpty || IsSpace(text[0]))
        {
            return false;
        }

        return TryParseStrtod(text, out score);
    }

    /// <summary>
    /// A number in <c>strtod</c>'s decimal syntax (an optional sign, digits with an optional point, an optional exponent,
    /// or <c>inf</c>/<c>infinity</c>), the whole text; false for NaN and for a finite number out of the double's range
    /// (ERANGE), as Redis refuses them.
    /// </summary>
    public static bool TryParseStrtod(ReadOnlySpan<byte> text, out double score)
    {
        score = 0;
        ReadOnlySpan<byte> body = text;
        bool negative = false;
        if (!body.IsEmpty && (body[0] == '+' || body[0] == '-'))
        {
            negative = body[0] == '-';
            body = body[1..];
        }

        if (Ascii.EqualsIgnoreCase(body, "inf"u8) || Ascii.EqualsIgnoreCase(body, "infinity"u8))
        {
            score = negative ? double.NegativeInfinity : double.PositiveInfinity;
            return true;
        }

        if (!IsDecimalNumber(body, out bool nonZeroDigit))
        {
            return false;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out score) || double.IsNaN(score))
        {
            return false;
        }

        // strtod reports a finite number that overflows or underflows (ERANGE), which Redis refuses.
        return !double.IsInfinity(score) && !(score == 0 && nonZeroDigit);
    }

    /// <summary>The score as redis-server 7.0 writes it: <c>%.17g</c>, with <c>inf</c> and <c>-inf</c>.</summary>
    public static string Format(double score)
    {
        if (double.IsPositiveInfinity(score))
        {
            return "inf";
        }

        if (double.IsNegativeInfinity(score))
        {
            return "-inf";
        }

        // .NET's G17 is C's %.17g but for the exponent's letter (both write at least two exponent digits).
        return score.ToString("G17", CultureInfo.InvariantCulture).Replace('E', 'e');
    }

    public static byte[] FormatBytes(double score)
    {
        Span<byte> text = stackalloc byte[MaxFormattedBytes];
        return text[..FormatInto(score, text)].ToArray();
    }

    /// <summary>A score reply: a bulk string in RESP2, a double in RESP3; formatted on the stack, nothing allocated.</summary>
    public static void Write(RespWriter writer, double score)
    {
        ArgumentNullException.ThrowIfNull(writer);
        Span<byte> text = stackalloc byte[MaxFormattedBytes];
        text = text[..FormatInto(score, text)];
        if (writer.IsResp3)
        {
            writer.WriteRaw(","u8);
            writer.WriteRaw(text);
            writer.WriteRaw("\r\n"u8);
        }
        else
        {
            writer.WriteBulk(text);
        }
    }

    /// <summary>The longest <see cref="FormatInto"/> writes: a sign, 17 digits, a point and an exponent fit with room to spare.</summary>
    private const int MaxFormattedBytes = 32;

    /// <summary>Writes <see cref="Format"/>'s text as ASCII into <paramref name="destination"/> (at least 32 bytes) and returns its length.</summary>
    private static int FormatInto(double score, Span<byte> destination)
    {
        if (double.IsInfinity(score))
        {
            ReadOnlySpan<byte> infinity = score > 0 ? "inf"u8 : "-inf"u8;
            infinity.CopyTo(destination);
            return infinity.Length;
        }

        if (!score.TryFormat(destination, out int written, "G17", CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException("A %.17g score did not fit in its buffer.");
        }

        Span<byte> text = destination[..written];
        int exponent = text.IndexOf((byte)'E');
        if (exponent >= 0)
        {
            text[exponent] = (byte)'e';
        }

        return written;
    }

    private static bool IsSpace(byte value) => value is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r';

    /// <summary>Digits with at most one point (at least one digit), then optionally e/E, a sign and digits.</summary>
    private static bool IsDecimalNumber(ReadOnlySpan<byte> text, out bool nonZeroDigit)
    {
        nonZeroDigit = false;
        int i = 0;
        int digits = 0;
        bool point = false;
        for (; i < text.Length; i++)
        {
            byte c = text[i];
            if (c is >= (byte)'0' and <= (byte)'9')
            {
                digits++;
                nonZeroDigit |= c != '0';
            }
            else if (c == '.' && !point)
            {
                point = true;
            }
            else
            {
                break;
            }
        }

        if (digits == 0)
        {
            return false;
        }

        if (i == text.Length)
        {
            return true;
        }

        if (text[i] is not ((byte)'e' or (byte)'E'))
        {
            return false;
        }

        i++;
        if (i < text.Length && text[i] is (byte)'+' or (byte)'-')
        {
            i++;
        }

        int exponentDigits = 0;
        for (; i < text.Length && text[i] is >= (byte)'0' and <= (byte)'9'; i++)
        {
            exponentDigits++;
        }

        return exponentDigits > 0 && i == text.Length;
    }
}
