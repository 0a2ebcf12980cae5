using Dynamite.Core.KeyValue;

namespace Dynamite.Storage;

/// <summary>
/// What a <see cref="RecordCache"/> holds for one key: the committed record (expired or not), or, when
/// <see cref="Value"/> is null, that nothing is stored. Immutable apart from the clock sweep's mark.
/// </summary>
public sealed class CachedRecord(byte[]? value, long expiresAtUnixMs, int charge, RecordKind kind = RecordKind.Value)
{
    /// <summary>The stored value (never mutated, as every stored value); null: the key is absent.</summary>
    public byte[]? Value { get; } = value;

    /// <summary>The record's absolute expiry in Unix milliseconds; 0: none (and always 0 when absent).</summary>
    public long ExpiresAtUnixMs { get; } = expiresAtUnixMs;

    /// <summary>The stored record's kind (a plain value when absent).</summary>
    public RecordKind Kind { get; } = kind;

    /// <summary>What the entry counts against the cache's capacity.</summary>
    public int Charge { get; } = charge;

    /// <summary>Read since the clock sweep last passed: the sweep spares it once. Racy by design (a lost mark only
    /// makes an eviction a little less well chosen).</summary>
    public bool Referenced { get; set; }

    public bool IsStored => Value is not null;

    /// <summary>True when a record is stored but expired at <paramref name="nowUnixMs"/>.</summary>
    public bool IsExpiredAt(long nowUnixMs) => ExpiresAtUnixMs != 0 && ExpiresAtUnixMs <= nowUnixMs;

    /// <summary>The record when it is stored and live at <paramref name="nowUnixMs"/>.</summary>
    public bool TryGetLive(long nowUnixMs, out StoredRecord record)
    {
        if (Value is null || IsExpiredAt(nowUnixMs))
        {
            record = default;
            return false;
        }

        record = new StoredRecord(Value, ExpiresAtUnixMs, Kind);
        return true;
    }
}
