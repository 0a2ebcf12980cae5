namespace Dynamite.Core.KeyValue;

/// <summary>
/// What an engine stores under a key: opaque value bytes and an absolute expiry.
/// Invariant: <see cref="Value"/> is never mutated once stored; a write replaces the array.
/// </summary>
/// <param name="Value">The value bytes.</param>
/// <param name="ExpiresAtUnixMs">Absolute expiry in Unix milliseconds; 0 means the record never expires.</param>
public readonly record struct StoredRecord(byte[] Value, long ExpiresAtUnixMs)
{
    public bool HasExpiry => ExpiresAtUnixMs != 0;

    /// <summary>True when the record has expired at <paramref name="nowUnixMs"/> (Redis: expired when now &gt;= expiry).</summary>
    public bool IsExpiredAt(long nowUnixMs) => ExpiresAtUnixMs != 0 && ExpiresAtUnixMs <= nowUnixMs;
}
