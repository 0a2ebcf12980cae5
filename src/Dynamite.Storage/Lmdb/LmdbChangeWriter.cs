using LightningDB;

namespace Dynamite.Storage.Lmdb;

/// <summary>
/// Applies a group's staged changes to the writer's LMDB write transaction, on the writer thread: newest first, so a
/// key changed twice in one group is written once. Each change first reads the key's stored expiry (the record's
/// header, in the map), which is what keeps the key counters exact and the expiry index in step with the data: both
/// are changed in the same transaction as the record, so they can never disagree, even after a crash.
/// </summary>
internal sealed class LmdbChangeWriter(LmdbStore store)
{
    /// <summary>A scratch buffer larger than this (a large value went through) is dropped after the group.</summary>
    private const int RetainedBufferBytes = 1 << 20;

    private readonly HashSet<byte[]> _appliedKeys = new(ByteArrayComparer.Instance);

    // The encoded keys and value of one change; LMDB copies them into its pages, so one buffer serves every change.
    private byte[] _buffer = new byte[4096];

    /// <summary>Applies the surviving changes (the last change of each key wins) in <paramref name="transaction"/> and
    /// returns how the key and expiry counters move when it commits. Throws on an LMDB error (a full map), leaving the
    /// transaction to be aborted.</summary>
    public (long KeyDelta, long ExpiryDelta) Apply(IReadOnlyList<StagedChange> changes, LightningTransaction transaction)
    {
        bool deduplicate = changes.Count > 1;
        long keyDelta = 0;
        long expiryDelta = 0;
        try
        {
            for (int i = changes.Count - 1; i >= 0; i--)
            {
                StagedChange change = changes[i];
                if (deduplicate && !_appliedKeys.Add(change.Key))
                {
                    continue;
                }

                (int keys, int expiries) = Apply(change, transaction);
                keyDelta += keys;
                expiryDelta += expiries;
            }
        }
        finally
        {
            _appliedKeys.Clear();
            if (_buffer.Length > RetainedBufferBytes)
            {
                _buffer = new byte[4096];
            }
        }

        return (keyDelta, expiryDelta);
    }

    private (int KeyDelta, int ExpiryDelta) Apply(StagedChange change, LightningTransaction transaction)
    {
        int dataKeyLength = LmdbKeys.DataKeyLength(change.Key.Length);
        int expiryKeyLength = LmdbKeys.ExpiryKeyLength(dataKeyLength);
        ReadOnlySpan<byte> longKey = LmdbKeys.IsLong(change.Key.Length) ? change.Key : default;
        int valueLength = change.Record is { } written ? LmdbRecordCodec.EncodedLength(written, longKey) : 0;
        Span<byte> buffer = Rent(dataKeyLength + expiryKeyLength + valueLength);
        Span<byte> dataKey = buffer[..dataKeyLength];
        Span<byte> expiryKey = buffer.Slice(dataKeyLength, expiryKeyLength);
        LmdbKeys.WriteDataKey(dataKey, change.KeyHash, change.Key);

        bool existed = store.TryReadExpiry(transaction, dataKey, out long previousExpiry);
        long newExpiry = change.Record?.ExpiresAtUnixMs ?? 0;
        if (previousExpiry != 0 && previousExpiry != newExpiry)
        {
            LmdbKeys.WriteExpiryKey(expiryKey, previousExpiry, dataKey);
            store.Delete(transaction, store.Expiry, expiryKey);
        }

        if (change.Record is { } record)
        {
            Span<byte> value = buffer.Slice(dataKeyLength + expiryKeyLength, valueLength);
            LmdbRecordCodec.Encode(record, longKey, value);
            store.Put(transaction, store.Data, dataKey, value);
            if (newExpiry != 0 && newExpiry != previousExpiry)
            {
                LmdbKeys.WriteExpiryKey(expiryKey, newExpiry, dataKey);
                store.Put(transaction, store.Expiry, expiryKey, ReadOnlySpan<byte>.Empty);
            }

            return (existed ? 0 : 1, (newExpiry != 0 ? 1 : 0) - (previousExpiry != 0 ? 1 : 0));
        }

        if (!existed)
        {
            return (0, 0);
        }

        store.Delete(transaction, store.Data, dataKey);
        return (-1, previousExpiry != 0 ? -1 : 0);
    }

    private Span<byte> Rent(int length)
    {
        if (_buffer.Length < length)
        {
            _buffer = new byte[Math.Max(length, _buffer.Length * 2)];
        }

        return _buffer.AsSpan(0, length);
    }
}
