using RocksDbSharp;

namespace Dynamite.Storage.RocksDb;

/// <summary>
/// Turns a group's surviving changes into one <see cref="WriteBatch"/> (<see cref="ChangeWriter"/>). A change of a key
/// the group did not read first reads the key's stored expiry (a pinned read of the record's header); the record, its
/// expiry-index entry and the key counters are changed in the same batch, so they can never disagree, even after a
/// crash. Element and index entry changes go into the same batch; a delete of all of a key's elements is one range tombstone, written
/// only when the key has elements (an iterator over the committed elements, one per group, finds out).
/// </summary>
internal sealed class RocksDbChangeWriter(RocksDbStore store, WriteBatch batch) : ChangeWriter
{
    // Writer thread only: created by the group's first delete of all of a key's elements, disposed when the group is
    // applied, so it always reads the state the group started from (nothing of the group is written before the batch).
    private Iterator? _elements;
    private Iterator? _indexEntries;

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

    protected override void WriteElement(StagedElementChange change)
    {
        // Forgotten before the write is committed: a read from then on seeks from the key's real end.
        store.ElementSpace.Ends.OnWrite(change.Key, change.Element);
        batch.Put(ElementKey(change), change.Value!, store.Elements);
    }

    protected override void DeleteElement(StagedElementChange change) =>
        batch.Delete(ElementKey(change), store.Elements);

    protected override void DeleteAllElements(StagedElementChange change)
    {
        _elements ??= store.NewIterator(store.Elements);
        store.StageDeleteElements(store.ElementSpace, batch, _elements, change.KeyHash, change.Key);
    }

    protected override void WriteIndexEntry(StagedElementChange change)
    {
        store.IndexSpace.Ends.OnWrite(change.Key, change.Element);
        batch.Put(ElementKey(change), ReadOnlySpan<byte>.Empty, store.IndexEntries);
    }

    protected override void DeleteIndexEntry(StagedElementChange change) =>
        batch.Delete(ElementKey(change), store.IndexEntries);

    protected override void DeleteAllIndexEntries(StagedElementChange change)
    {
        _indexEntries ??= store.NewIterator(store.IndexEntries);
        store.StageDeleteElements(store.IndexSpace, batch, _indexEntries, change.KeyHash, change.Key);
    }

    protected override void EndApply()
    {
        _elements?.Dispose();
        _elements = null;
        _indexEntries?.Dispose();
        _indexEntries = null;
    }

    /// <summary>The change's element key, in the scratch buffer (RocksDB copies it into the batch).</summary>
    private Span<byte> ElementKey(StagedElementChange change)
    {
        byte[] element = change.Element!;
        Span<byte> elementKey = Scratch(RocksDbKeys.ElementPrefixLength(change.Key.Length) + element.Length);
        RocksDbKeys.WriteElementKey(elementKey, change.KeyHash, change.Key, element);
        return elementKey;
    }
}
