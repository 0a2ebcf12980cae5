using RocksDbSharp;

namespace Dynamite.Storage.RocksDb;

/// <summary>
/// Turns a group's staged changes into one <see cref="WriteBatch"/>, on the writer thread: newest first, so a key
/// changed twice in one group is written once. Each change first reads the key's stored expiry (a pinned read of the
/// record's header), which is what keeps the key counters exact and the expiry index in step with the data: both are
/// changed in the same batch as the record, so they can never disagree, even after a crash. A key the group's
/// operations already read (a replica's merge reads before it writes) is not read twice.
/// </summary>
internal sealed class RocksDbChangeWriter(RocksDbStore store)
{
    /// <summary>A scratch buffer larger than this (a large value went through) is dropped after the group.</summary>
    private const int RetainedBufferBytes = 1 << 20;

    private readonly HashSet<byte[]> _appliedKeys = new(ByteArrayComparer.Instance);

    // The encoded keys and value of one change; RocksDB copies them into the batch, so one buffer serves every change.
    private byte[] _buffer = new byte[4096];

    /// <summary>Adds the surviving changes (the last change of each key wins) to <paramref name="batch"/> and returns
    /// how the key and expiry counters move when it is written.</summary>
    public (long KeyDelta, long ExpiryDelta) Stage(RocksDbBatchTransaction group, WriteBatch batch)
    {
        IReadOnlyList<StagedChange> changes = group.Changes.Changes;
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

                (int keys, int expiries) = Stage(change, group, batch);
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

    private (int KeyDelta, int ExpiryDelta) Stage(StagedChange change, RocksDbBatchTransaction group, WriteBatch batch)
    {
        int dataKeyLength = RocksDbKeys.DataKeyLength(change.Key.Length);
        int expiryKeyLength = RocksDbKeys.ExpiryKeyLength(dataKeyLength);
        int valueLength = change.Record is { } written ? RocksDbRecordCodec.EncodedLength(written) : 0;
        Span<byte> buffer = Rent(dataKeyLength + expiryKeyLength + valueLength);
        Span<byte> dataKey = buffer[..dataKeyLength];
        Span<byte> expiryKey = buffer.Slice(dataKeyLength, expiryKeyLength);
        RocksDbKeys.WriteDataKey(dataKey, change.KeyHash, change.Key);

        // A key the group read is not read again: nothing but this thread writes, so the state it found still holds.
        if (!group.TryGetStoredState(change.Key, out bool existed, out long previousExpiry))
        {
            existed = store.TryReadExpiry(dataKey, out previousExpiry);
        }

        long newExpiry = change.Record?.ExpiresAtUnixMs ?? 0;
        if (previousExpiry != 0 && previousExpiry != newExpiry)
        {
            RocksDbKeys.WriteExpiryKey(expiryKey, previousExpiry, dataKey);
            batch.Delete(expiryKey, store.Expiry);
        }

        if (change.Record is { } record)
        {
            Span<byte> value = buffer.Slice(dataKeyLength + expiryKeyLength, valueLength);
            RocksDbRecordCodec.Encode(record, value);
            batch.Put(dataKey, value, store.Data);
            if (newExpiry != 0 && newExpiry != previousExpiry)
            {
                RocksDbKeys.WriteExpiryKey(expiryKey, newExpiry, dataKey);
                batch.Put(expiryKey, ReadOnlySpan<byte>.Empty, store.Expiry);
            }

            return (existed ? 0 : 1, (newExpiry != 0 ? 1 : 0) - (previousExpiry != 0 ? 1 : 0));
        }

        if (!existed)
        {
            return (0, 0);
        }

        batch.Delete(dataKey, store.Data);
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
