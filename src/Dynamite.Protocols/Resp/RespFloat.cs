using System.Globalization;

namespace Dynamite.Protocols.Resp;

/// <summary>
/// A number for INCRBYFLOAT. Redis computes in 80-bit long double and prints with %.17Lf, trailing zeros
/// trimmed; exact decimal arithmetic gives the same text for every value a decimal holds (28 digits),
/// and values beyond that fall back to double precision.
/// </summary>
internal readonly struct RespFloat(decimal decimalValue, double doubleValue, bool isDecimal)
{
    public bool IsDecimal { get; } = isDecimal;

    public decimal DecimalValue { get; } = decimalValue;

    public double DoubleValue => IsDecimal ? (double)DecimalValue : doubleValue;

    /// <summary>Adds two numbers; false when the result is not finite (Redis: "increment would produce NaN or Infinity").</summary>
    public static bool TryAdd(RespFloat a, RespFloat b, out RespFloat sum)
    {
        if (a.IsDecimal && b.IsDecimal)
        {
            try
            {
                sum = new RespFloat(a.DecimalValue + b.DecimalValue, double.NaN, isDecimal: true);
                return true;
            }
            catch (OverflowException)
            {
            }
        }

        double result = a.DoubleValue + b.DoubleValue;
        sum = new RespFloat(0, result, isDecimal: false);
        return double.IsFinite(result);
    }

    /// <summary>Redis's LD_STR_HUMAN text: fixed-point, no exponent, trailing zeros and point trimmed.</summary>
    public string ToHumanString()
    {
        if (IsDecimal)
        {
            // Redis rounds to 17 decimals; a decimal has at most 28 fractional digits.
            decimal rounded = Math.Round(DecimalValue, 17, MidpointRounding.ToEven);
            string text = rounded.ToString("0.#################", CultureInfo.InvariantCulture);
            return text == "-0" ? "0" : text;
        }

        string fixedText = doubleValue.ToString("F17", CultureInfo.InvariantCulture);
        if (fixedText.Contains('.', StringComparison.Ordinal))
        {
            fixedText = fixedText.TrimEnd('0').TrimEnd('.');
        }

        return fixedText == "-0" ? "0" : fixedText;
    }
}
