namespace Dynamite.Protocols.Resp;

/// <summary>
/// SCAN cursors as clients see them. A scan resumes at a key hash (0..2^64-1), but many clients parse the
/// cursor as a signed 64-bit integer (StackExchange.Redis, Jedis), so the hash is not sent as it is: the
/// cursor is (hash / 4) + 1, which stays below 2^62 + 2, and 0 keeps Redis's meaning (start, or done).
/// Resuming at (cursor - 1) * 4 may return up to three earlier hashes again, which SCAN allows: it promises
/// every key present for the whole scan at least once, not exactly once.
/// </summary>
public static class ScanCursor
{
    private const int DroppedBits = 2;

    /// <summary>The cursor that resumes at <paramref name="nextHash"/>, or 0 when the scan is complete.</summary>
    public static ulong Encode(ulong? nextHash) => nextHash is { } hash ? (hash >> DroppedBits) + 1 : 0;

    /// <summary>
    /// The hash to resume at; false when the cursor lies past the end of the hash space (no cursor this
    /// server handed out does), in which case the scan is complete.
    /// </summary>
    public static bool TryDecode(ulong cursor, out ulong fromHash)
    {
        if (cursor == 0)
        {
            fromHash = 0;
            return true;
        }

        ulong position = cursor - 1;
        if (position > ulong.MaxValue >> DroppedBits)
        {
            fromHash = 0;
            return false;
        }

        fromHash = position << DroppedBits;
        return true;
    }
}
