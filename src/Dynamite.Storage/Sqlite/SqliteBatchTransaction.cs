using System.Diagnostics.CodeAnalysis;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;

namespace Dynamite.Storage.Sqlite;

/// <summary>
/// The SQLite group's view (<see cref="BatchTransaction"/>): the committed state is read through the writer's
/// connection, inside the group's transaction, which nothing has been written to yet (the changes are applied only
/// when the group commits). Elements and index entries are read the same way.
/// </summary>
internal sealed class SqliteBatchTransaction(
    RecordCache cache,
    SqliteIndexEntries indexEntries,
    SqliteStatement selectRecord,
    SqliteStatement selectElement,
    SqliteStatement selectElements,
    SqliteStatement selectElementsAfter) : BatchTransaction(cache), IElementReader
{
    protected override IElementReader StoredElements => this;

    protected override IElementReader StoredIndex => indexEntries.Reads;

    bool IElementReader.TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value) =>
        SqliteSchema.TryReadElement(selectElement, key, element, out value);

    bool IElementReader.ReadElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit, List<StoredElement> into) =>
        SqliteSchema.ReadElements(selectElements, selectElementsAfter, key, afterElement, limit, into);

    protected override bool TryReadStored(ReadOnlySpan<byte> key, out long storedExpiry, out StoredRecord? liveRecord)
    {
        try
        {
            selectRecord.BindInt64(1, SqliteSchema.EncodeHash(KeyPartitioner.HashKey(key)));
            selectRecord.BindBlob(2, key);
            bool stored = selectRecord.Step();
            storedExpiry = stored ? selectRecord.GetInt64(0) : 0;
            liveRecord = stored && (storedExpiry == 0 || storedExpiry > NowUnixMs)
                ? new StoredRecord(selectRecord.GetBlob(1).ToArray(), storedExpiry, SqliteSchema.ReadKind(selectRecord, 2))
                : null;
            return stored;
        }
        finally
        {
            selectRecord.Reset();
        }
    }
}
