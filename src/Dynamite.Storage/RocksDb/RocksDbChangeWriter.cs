using RocksDbSharp;

namespace Dynamite.Storage.RocksDb;

/// <summary>
/// Turns a group's surviving changes into one <see cref="WriteBatch"/> (<see cref="ChangeWriter"/>). A change of a key
/// the group did not read first reads the key's stored expiry (a pinned read of the record's header); the record, its
/// expiry-index entry and the key counters are changed in the same batch, so they can never disagree, even after a
/// crash.
/// </summary>
internal sealed class RocksDbChangeWriter(RocksDbStore store, WriteBatch batch) : ChangeWriter
{
    protected override StoredKeyState Apply(StagedChange change, StoredKeyState? known)
    {
        int dataKeyLength = RocksDbKeys.DataKeyLength(change.Key.Length);
        int expiryKeyLength = RocksDbKeys.ExpiryKeyLength(dataKeyLength);
        int valueLength = change.Record is { } written ? RocksDbRecordCodec.EncodedLength(written) : 0;

        // RocksDB copies the keys and value into the batch, so one scratch buffer serves every change.
        Span<byte> buffer = Scratch(dataKeyLength + expiryKeyLength + valueLength);
        Span<byte> dataKey = buffer[..dataKeyLength];
        Span<byte> expiryKey = buffer.Slice(dataKeyLength, expiryKeyLength);
        RocksDbKeys.WriteDataKey(dataKey, change.KeyHash, change.Key);
        StoredKeyState before = known ?? new StoredKeyState(store.TryReadExpiry(dataKey, out long storedExpiry), storedExpiry);

        long newExpiry = change.Record?.ExpiresAtUnixMs ?? 0;
        if (before.Expiry != 0 && before.Expiry != newExpiry)
        {
            RocksDbKeys.WriteExpiryKey(expiryKey, before.Expiry, dataKey);
            batch.Delete(expiryKey, store.Expiry);
        }

        if (change.Record is { } record)
        {
            Span<byte> value = buffer.Slice(dataKeyLength + expiryKeyLength, valueLength);
            RocksDbRecordCodec.Encode(record, value);
            batch.Put(dataKey, value, store.Data);
            if (newExpiry != 0 && newExpiry != before.Expiry)
            {
                RocksDbKeys.WriteExpiryKey(expiryKey, newExpiry, dataKey);
                batch.Put(expiryKey, ReadOnlySpan<byte>.Empty, store.Expiry);
            }
        }
        else if (before.Stored)
        {
            batch.Delete(dataKey, store.Data);
        }

        return before;
    }
}
