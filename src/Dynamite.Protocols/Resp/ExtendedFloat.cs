using System.Globalization;
using System.Numerics;
using System.Text;

namespace Dynamite.Protocols.Resp;

/// <summary>
/// The x87 80-bit "long double" that redis-server uses for INCRBYFLOAT, emulated exactly so that replies match
/// byte for byte: a 64-bit significand, every operation rounded to nearest, ties to even. Parsing follows
/// strtold as Redis's string2ld accepts it; formatting follows <c>printf("%.17Lf")</c> with trailing zeros
/// trimmed (Redis's LD_STR_HUMAN). Value = (negative ? -1 : 1) * Significand * 2^Exponent.
/// </summary>
internal readonly struct ExtendedFloat
{
    private const int SignificandBits = 64;
    private const int MaxDecimalExponent = 5000;
    private static readonly BigInteger TenToThe17 = BigInteger.Pow(10, 17);

    private ExtendedFloat(bool negative, BigInteger significand, int exponent, bool infinite)
    {
        Negative = negative;
        Significand = significand;
        Exponent = exponent;
        IsInfinity = infinite;
    }

    public bool Negative { get; }

    public BigInteger Significand { get; }

    public int Exponent { get; }

    public bool IsInfinity { get; }

    public static ExtendedFloat Zero => new(false, BigInteger.Zero, 0, false);

    /// <summary>
    /// strtold as string2ld accepts it: optional sign, digits with an optional point, an optional exponent,
    /// hexadecimal (0x1.8p3), or inf/infinity; no surrounding space, nothing after the number, not NaN.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out ExtendedFloat value)
    {
        value = Zero;
        if (text.Length == 0 || text.Length > 5000)
        {
            return false;
        }

        int i = 0;
        bool negative = false;
        if (text[0] is (byte)'+' or (byte)'-')
        {
            negative = text[0] == (byte)'-';
            i++;
        }

        ReadOnlySpan<byte> rest = text[i..];
        if (System.Text.Ascii.EqualsIgnoreCase(rest, "inf"u8) || System.Text.Ascii.EqualsIgnoreCase(rest, "infinity"u8))
        {
            value = new ExtendedFloat(negative, BigInteger.Zero, 0, true);
            return true;
        }

        if (rest.Length > 2 && rest[0] == (byte)'0' && rest[1] is (byte)'x' or (byte)'X')
        {
            return TryParseHex(negative, rest[2..], out value);
        }

        var digits = new StringBuilder();
        int decimalExponent = 0;
        bool sawDigit = false;
        while (i < text.Length && text[i] is >= (byte)'0' and <= (byte)'9')
        {
            digits.Append((char)text[i++]);
            sawDigit = true;
        }

        if (i < text.Length && text[i] == (byte)'.')
        {
            i++;
            while (i < text.Length && text[i] is >= (byte)'0' and <= (byte)'9')
            {
                digits.Append((char)text[i++]);
                decimalExponent--;
                sawDigit = true;
            }
        }

        if (!sawDigit)
        {
            return false;
        }

        if (i < text.Length && text[i] is (byte)'e' or (byte)'E')
        {
            i++;
            bool negativeExponent = false;
            if (i < text.Length && text[i] is (byte)'+' or (byte)'-')
            {
                negativeExponent = text[i] == (byte)'-';
                i++;
            }

            int start = i;
            int exponent = 0;
            while (i < text.Length && text[i] is >= (byte)'0' and <= (byte)'9')
            {
                exponent = Math.Min((exponent * 10) + (text[i] - '0'), 100_000);
                i++;
            }

            if (i == start)
            {
                return false;
            }

            decimalExponent += negativeExponent ? -exponent : exponent;
        }

        if (i != text.Length)
        {
            return false;
        }

        BigInteger mantissa = BigInteger.Parse(digits.ToString(), CultureInfo.InvariantCulture);
        if (mantissa.IsZero)
        {
            value = new ExtendedFloat(negative, BigInteger.Zero, 0, false);
            return true;
        }

        if (decimalExponent + digits.Length > MaxDecimalExponent || decimalExponent + digits.Length < -MaxDecimalExponent)
        {
            // Beyond long double's range strtold reports ERANGE, which string2ld rejects.
            return false;
        }

        value = decimalExponent >= 0
            ? Round(negative, mantissa * BigInteger.Pow(10, decimalExponent), BigInteger.One, 0)
            : Round(negative, mantissa, BigInteger.Pow(10, -decimalExponent), 0);
        return true;
    }

    /// <summary>strtold's hexadecimal form: hex digits with an optional point, an optional binary exponent p[+-]N.</summary>
    private static bool TryParseHex(bool negative, ReadOnlySpan<byte> text, out ExtendedFloat value)
    {
        value = Zero;
        BigInteger mantissa = BigInteger.Zero;
        int binaryExponent = 0;
        int i = 0;
        bool sawDigit = false;
        bool afterPoint = false;
        for (; i < text.Length; i++)
        {
            int digit = HexDigit(text[i]);
            if (digit >= 0)
            {
                mantissa = (mantissa << 4) + digit;
                binaryExponent -= afterPoint ? 4 : 0;
                sawDigit = true;
            }
            else if (text[i] == (byte)'.' && !afterPoint)
            {
                afterPoint = true;
            }
            else
            {
                break;
            }
        }

        if (!sawDigit)
        {
            return false;
        }

        if (i < text.Length && text[i] is (byte)'p' or (byte)'P')
        {
            i++;
            bool negativeExponent = i < text.Length && text[i] == (byte)'-';
            if (i < text.Length && text[i] is (byte)'+' or (byte)'-')
            {
                i++;
            }

            int start = i;
            int exponent = 0;
            while (i < text.Length && text[i] is >= (byte)'0' and <= (byte)'9')
            {
                exponent = Math.Min((exponent * 10) + (text[i] - '0'), 100_000);
                i++;
            }

            if (i == start)
            {
                return false;
            }

            binaryExponent += negativeExponent ? -exponent : exponent;
        }

        if (i != text.Length || Math.Abs(binaryExponent) > 16000)
        {
            return false;
        }

        value = mantissa.IsZero
            ? new ExtendedFloat(negative, BigInteger.Zero, 0, false)
            : binaryExponent >= 0
                ? Round(negative, mantissa << binaryExponent, BigInteger.One, 0)
                : Round(negative, mantissa, BigInteger.One << -binaryExponent, 0);
        return true;
    }

    private static int HexDigit(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    /// <summary>Adds with one rounding, as the FPU does. Infinity plus anything finite stays infinite.</summary>
    public static ExtendedFloat Add(ExtendedFloat a, ExtendedFloat b)
    {
        if (a.IsInfinity || b.IsInfinity)
        {
            return a.IsInfinity ? a : b;
        }

        int exponent = Math.Min(a.Exponent, b.Exponent);
        BigInteger left = (a.Negative ? -a.Significand : a.Significand) << (a.Exponent - exponent);
        BigInteger right = (b.Negative ? -b.Significand : b.Significand) << (b.Exponent - exponent);
        BigInteger sum = left + right;
        if (sum.IsZero)
        {
            // Round-to-nearest gives +0 for x + (-x).
            return Zero;
        }

        return Round(sum.Sign < 0, BigInteger.Abs(sum), BigInteger.One, -exponent);
    }

    /// <summary><c>printf("%.17Lf")</c>, then Redis trims trailing zeros and the point, and turns "-0" into "0".</summary>
    public string ToHumanString()
    {
        BigInteger scaled;
        if (Exponent >= 0)
        {
            scaled = (Significand << Exponent) * TenToThe17;
        }
        else
        {
            BigInteger denominator = BigInteger.One << -Exponent;
            scaled = BigInteger.DivRem(Significand * TenToThe17, denominator, out BigInteger remainder);
            int half = (remainder * 2).CompareTo(denominator);
            if (half > 0 || (half == 0 && !scaled.IsEven))
            {
                scaled++;
            }
        }

        BigInteger integer = BigInteger.DivRem(scaled, TenToThe17, out BigInteger fraction);
        string text = integer.ToString(CultureInfo.InvariantCulture) + "." + fraction.ToString("D17", CultureInfo.InvariantCulture);
        text = text.TrimEnd('0').TrimEnd('.');
        if (Negative)
        {
            text = "-" + text;
        }

        return text == "-0" ? "0" : text;
    }

    /// <summary>Rounds numerator / (denominator * 2^scale) to a 64-bit significand, ties to even.</summary>
    private static ExtendedFloat Round(bool negative, BigInteger numerator, BigInteger denominator, int scale)
    {
        // Find shift with 2^63 <= numerator * 2^shift / denominator < 2^64.
        int shift = SignificandBits - (int)(numerator.GetBitLength() - denominator.GetBitLength());
        BigInteger quotient;
        BigInteger remainder;
        BigInteger divisor;
        while (true)
        {
            BigInteger scaledNumerator = shift >= 0 ? numerator << shift : numerator;
            divisor = shift >= 0 ? denominator : denominator << -shift;
            quotient = BigInteger.DivRem(scaledNumerator, divisor, out remainder);
            long bits = quotient.GetBitLength();
            if (bits > SignificandBits)
            {
                shift--;
            }
            else if (bits < SignificandBits)
            {
                shift++;
            }
            else
            {
                break;
            }
        }

        int comparison = (remainder * 2).CompareTo(divisor);
        if (comparison > 0 || (comparison == 0 && !quotient.IsEven))
        {
            quotient++;
            if (quotient.GetBitLength() > SignificandBits)
            {
                quotient >>= 1;
                shift--;
            }
        }

        return new ExtendedFloat(negative, quotient, -shift - scale, false);
    }
}
