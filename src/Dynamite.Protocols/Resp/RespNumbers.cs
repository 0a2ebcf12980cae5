using System.Globalization;

namespace Dynamite.Protocols.Resp;

/// <summary>Number parsing with Redis's exact acceptance rules (string2ll, string2ld).</summary>
internal static class RespNumbers
{
    /// <summary>
    /// Redis string2ll: optional '-', no '+', no leading zeros (but "0"), no spaces, at most 20 characters,
    /// no overflow. "-0" is rejected.
    /// </summary>
    public static bool TryParseInt64(ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        if (text.Length == 0 || text.Length > 20)
        {
            return false;
        }

        if (text.Length == 1 && text[0] == (byte)'0')
        {
            return true;
        }

        bool negative = text[0] == (byte)'-';
        ReadOnlySpan<byte> digits = negative ? text[1..] : text;
        if (digits.Length == 0 || digits[0] is < (byte)'1' or > (byte)'9')
        {
            return false;
        }

        ulong magnitude = 0;
        foreach (byte digit in digits)
        {
            if (digit is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            if (magnitude > (ulong.MaxValue - 9) / 10)
            {
                return false;
            }

            magnitude = (magnitude * 10) + (ulong)(digit - '0');
        }

        if (negative)
        {
            if (magnitude > (ulong)long.MaxValue + 1)
            {
                return false;
            }

            value = (long)(0 - magnitude);
            return true;
        }

        if (magnitude > long.MaxValue)
        {
            return false;
        }

        value = (long)magnitude;
        return true;
    }

    /// <summary>
    /// Redis string2ld as INCRBYFLOAT uses it: a whole-string decimal or exponent number, no leading space,
    /// no NaN or infinity. Returns the value as a decimal when it fits (exact decimal arithmetic is how we
    /// reproduce Redis's long-double results for ordinary inputs), else as a double.
    /// </summary>
    public static bool TryParseFloat(ReadOnlySpan<byte> text, out RespFloat value)
    {
        value = default;
        if (text.Length == 0 || text.Length > 5000 || IsSpace(text[0]) || IsSpace(text[^1]))
        {
            return false;
        }

        if (HasHexOrSpecial(text))
        {
            return false;
        }

        string asText = System.Text.Encoding.ASCII.GetString(text);
        if (decimal.TryParse(asText, NumberStyles.Float, CultureInfo.InvariantCulture, out decimal asDecimal))
        {
            value = new RespFloat(asDecimal, double.NaN, isDecimal: true);
            return true;
        }

        if (double.TryParse(asText, NumberStyles.Float, CultureInfo.InvariantCulture, out double asDouble) && double.IsFinite(asDouble))
        {
            value = new RespFloat(0, asDouble, isDecimal: false);
            return true;
        }

        return false;
    }

    private static bool HasHexOrSpecial(ReadOnlySpan<byte> text)
    {
        foreach (byte b in text)
        {
            if (b is not ((>= (byte)'0' and <= (byte)'9') or (byte)'.' or (byte)'-' or (byte)'+' or (byte)'e' or (byte)'E'))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\v' or (byte)'\f';

    /// <summary>Formats a double with the shortest round-trip text, for replies that carry doubles.</summary>
    public static string FormatDouble(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
