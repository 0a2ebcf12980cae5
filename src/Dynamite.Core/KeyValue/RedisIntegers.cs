namespace Dynamite.Core.KeyValue;

/// <summary>Integers as Redis reads them from a value (INCR, HINCRBY): the front ends and the cluster's typed strings agree.</summary>
public static class RedisIntegers
{
    /// <summary><paramref name="value"/> plus <paramref name="increment"/>; false when the sum leaves 64 bits (Redis: "increment or decrement would overflow").</summary>
    public static bool TryAdd(long value, long increment, out long sum)
    {
        sum = unchecked(value + increment);
        // Overflow: both operands have one sign and the sum has the other.
        return ((value ^ sum) & (increment ^ sum)) >= 0;
    }

    /// <summary>
    /// Redis string2ll: optional '-', no '+', no leading zeros (but "0"), no spaces, at most 20 characters,
    /// no overflow. "-0" is rejected.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out long value)
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
}
