namespace Dynamite.Core.KeyValue;

/// <summary>
/// What an engine stores under a key: opaque value bytes, an absolute expiry and the record's kind.
/// Invariant: <see cref="Value"/> is never mutated once stored; a write replaces the array.
/// </summary>
/// <param name="Value">The value bytes.</param>
/// <param name="ExpiresAtUnixMs">Absolute expiry in Unix milliseconds; 0 means the record never expires.</param>
/// <param name="Kind">A plain value (the default) or a typed key's header; every engine persists it.</param>
public readonly record struct StoredRecord(byte[] Value, long ExpiresAtUnixMs, RecordKind Kind = RecordKind.Value)
{
    public bool HasExpiry => ExpiresAtUnixMs != 0;

    public bool IsTypedHeader => Kind == RecordKind.TypedHeader;

    /// <summary>True when the record has expired at <paramref name="nowUnixMs"/> (Redis: expired when now &gt;= expiry).</summary>
    public bool IsExpiredAt(long nowUnixMs) => ExpiresAtUnixMs != 0 && ExpiresAtUnixMs <= nowUnixMs;
}
