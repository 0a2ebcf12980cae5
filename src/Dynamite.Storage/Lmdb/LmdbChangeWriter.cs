using LightningDB;

namespace Dynamite.Storage.Lmdb;

/// <summary>
/// Applies a group's surviving changes in the group's LMDB write transaction (<see cref="ChangeWriter"/>). A change of a
/// key the group did not read first reads the key's stored expiry (the record's header, in the map); the record, its
/// expiry-index entry and the key counters are changed in the same transaction, so they can never disagree, even after
/// a crash. Element and index entry changes are applied in the same transaction. Throws on an LMDB error (a full map), leaving the
/// transaction to be aborted.
/// </summary>
internal sealed class LmdbChangeWriter(LmdbStore store, LmdbBatchTransaction group) : ChangeWriter
{
    protected override StoredKeyState Apply(StagedChange change, StoredKeyState? known)
    {
        LightningTransaction transaction = group.Transaction ?? throw new InvalidOperationException("The writer has no write transaction open.");
        int dataKeyLength = LmdbKeys.DataKeyLength(change.Key.Length);
        int expiryKeyLength = LmdbKeys.ExpiryKeyLength(dataKeyLength);
        ReadOnlySpan<byte> longKey = LmdbKeys.IsLong(change.Key.Length) ? change.Key : default;
        int valueLength = change.Record is { } written ? LmdbRecordCodec.EncodedLength(written, longKey) : 0;

        // LMDB copies the keys and value into its pages, so one scratch buffer serves every change.
        Span<byte> buffer = Scratch(dataKeyLength + expiryKeyLength + valueLength);
        Span<byte> dataKey = buffer[..dataKeyLength];
        Span<byte> expiryKey = buffer.Slice(dataKeyLength, expiryKeyLength);
        LmdbKeys.WriteDataKey(dataKey, change.KeyHash, change.Key);
        StoredKeyState before = known ?? new StoredKeyState(store.TryReadExpiry(transaction, dataKey, out long storedExpiry), storedExpiry);

        long newExpiry = change.Record?.ExpiresAtUnixMs ?? 0;
        if (before.Expiry != 0 && before.Expiry != newExpiry)
        {
            LmdbKeys.WriteExpiryKey(expiryKey, before.Expiry, dataKey);
            store.Delete(transaction, store.Expiry, expiryKey);
        }

        if (change.Record is { } record)
        {
            Span<byte> value = buffer.Slice(dataKeyLength + expiryKeyLength, valueLength);
            LmdbRecordCodec.Encode(record, longKey, value);
            store.Put(transaction, store.Data, dataKey, value);
            if (newExpiry != 0 && newExpiry != before.Expiry)
            {
                LmdbKeys.WriteExpiryKey(expiryKey, newExpiry, dataKey);
                store.Put(transaction, store.Expiry, expiryKey, ReadOnlySpan<byte>.Empty);
            }
        }
        else if (before.Stored)
        {
            store.Delete(transaction, store.Data, dataKey);
        }

        return before;
    }

    protected override void WriteElement(StagedElementChange change) => Write(store.Elements, change);

    protected override void DeleteElement(StagedElementChange change) => Delete(store.Elements, change);

    protected override void DeleteAllElements(StagedElementChange change) => DeleteAll(store.Elements, change);

    protected override void WriteIndexEntry(StagedElementChange change) => Write(store.IndexEntries, change);

    protected override void DeleteIndexEntry(StagedElementChange change) => Delete(store.IndexEntries, change);

    protected override void DeleteAllIndexEntries(StagedElementChange change) => DeleteAll(store.IndexEntries, change);

    /// <summary>Writes an element (or index entry: an empty value) into <paramref name="database"/>.</summary>
    private void Write(LightningDatabase database, StagedElementChange change)
    {
        LightningTransaction transaction = group.Transaction ?? throw new InvalidOperationException("The writer has no write transaction open.");
        byte[] element = change.Element!;
        byte[] value = change.Value!;
        int elementKeyLength = LmdbKeys.ElementKeyLength(change.Key.Length, element.Length);
        bool longName = LmdbKeys.IsLongName(element.Length, LmdbKeys.ElementPrefixLength(change.Key.Length));
        int encodedLength = longName ? LmdbElementCodec.LongFormLength(element, value) : 0;

        // LMDB copies the key and value into its pages; a value under a short name is put as it is.
        Span<byte> buffer = Scratch(elementKeyLength + encodedLength);
        Span<byte> elementKey = buffer[..elementKeyLength];
        LmdbKeys.WriteElementKey(elementKey, change.KeyHash, change.Key, element);
        if (!longName)
        {
            store.Put(transaction, database, elementKey, value);
            return;
        }

        Span<byte> encoded = buffer[elementKeyLength..];
        LmdbElementCodec.EncodeLongForm(element, value, encoded);
        store.Put(transaction, database, elementKey, encoded);
    }

    private void Delete(LightningDatabase database, StagedElementChange change)
    {
        LightningTransaction transaction = group.Transaction ?? throw new InvalidOperationException("The writer has no write transaction open.");
        byte[] element = change.Element!;
        Span<byte> elementKey = Scratch(LmdbKeys.ElementKeyLength(change.Key.Length, element.Length));
        LmdbKeys.WriteElementKey(elementKey, change.KeyHash, change.Key, element);
        store.Delete(transaction, database, elementKey);
    }

    private void DeleteAll(LightningDatabase database, StagedElementChange change)
    {
        LightningTransaction transaction = group.Transaction ?? throw new InvalidOperationException("The writer has no write transaction open.");
        Span<byte> prefix = Scratch(LmdbKeys.ElementPrefixLength(change.Key.Length));
        LmdbKeys.WriteElementPrefix(prefix, change.KeyHash, change.Key);
        store.DeleteRange(transaction, database, prefix);
    }
}
