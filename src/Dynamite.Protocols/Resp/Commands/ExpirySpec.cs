namespace Dynamite.Protocols.Resp.Commands;

/// <summary>How a write sets a key's expiry: clear it, keep it, or set it relative to now or absolutely.</summary>
internal readonly record struct ExpirySpec(ExpiryKind Kind, long Milliseconds)
{
    public static ExpirySpec Clear => new(ExpiryKind.Clear, 0);

    public static ExpirySpec Keep => new(ExpiryKind.Keep, 0);

    /// <summary>The absolute expiry (Unix ms, 0 = none) for a write at <paramref name="nowUnixMs"/>.</summary>
    public long Resolve(long nowUnixMs, long currentExpiresAtUnixMs) => Kind switch
    {
        ExpiryKind.Keep => currentExpiresAtUnixMs,
        ExpiryKind.Relative => nowUnixMs + Milliseconds,
        ExpiryKind.Absolute => Milliseconds,
        _ => 0,
    };

    /// <summary>
    /// Parses the time argument of EX/PX/EXAT/PXAT (and SETEX, EXPIRE...) with redis-server's checks: an
    /// integer (else "not an integer"), positive unless <paramref name="allowNonPositive"/>, and no overflow
    /// once converted to milliseconds and, when relative, added to now.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> text, bool seconds, bool relative, long nowUnixMs, string command, bool allowNonPositive, out ExpirySpec spec, out string? error)
    {
        spec = default;
        if (!RespNumbers.TryParseInt64(text, out long value))
        {
            error = RespErrors.NotInteger;
            return false;
        }

        error = RespErrors.InvalidExpireTime(command);
        if (!allowNonPositive && value <= 0)
        {
            return false;
        }

        if (seconds)
        {
            if (value > long.MaxValue / 1000 || value < long.MinValue / 1000)
            {
                return false;
            }

            value *= 1000;
        }

        if (relative)
        {
            if (value > long.MaxValue - nowUnixMs)
            {
                return false;
            }

            spec = new ExpirySpec(ExpiryKind.Relative, value);
        }
        else
        {
            spec = new ExpirySpec(ExpiryKind.Absolute, value);
        }

        if (!allowNonPositive && spec.Resolve(nowUnixMs, 0) <= 0)
        {
            return false;
        }

        error = null;
        return true;
    }
}

internal enum ExpiryKind
{
    Clear,
    Keep,
    Relative,
    Absolute,
}
