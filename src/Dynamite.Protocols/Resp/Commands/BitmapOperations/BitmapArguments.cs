namespace Dynamite.Protocols.Resp.Commands.BitmapOperations;

/// <summary>The bit offset argument of SETBIT, GETBIT and BITFIELD, checked as redis-server checks it.</summary>
internal static class BitmapArguments
{
    public const string OffsetError = "ERR bit offset is not an integer or out of range";

    /// <summary>
    /// A bit offset: a non-negative integer whose byte lies within the largest string (redis-server: proto-max-bulk-len),
    /// or, when <paramref name="fieldBits"/> is positive, <c>#n</c> for n fields of that width.
    /// </summary>
    public static bool TryParseOffset(ReadOnlySpan<byte> text, int fieldBits, long maxValueBytes, out long offset)
    {
        bool byField = fieldBits > 0 && text.Length > 0 && text[0] == '#';
        if (!RespNumbers.TryParseInt64(byField ? text[1..] : text, out offset))
        {
            return false;
        }

        if (byField)
        {
            try
            {
                offset = checked(offset * fieldBits);
            }
            catch (OverflowException)
            {
                return false;
            }
        }

        return offset >= 0 && (offset >> 3) < maxValueBytes;
    }
}
