using Dynamite.Core.KeyValue;

namespace Dynamite.Storage.RocksDb;

/// <summary>
/// The RocksDB group's view (<see cref="BatchTransaction"/>): the committed state is a plain read of the database, since
/// only the writer thread writes and the group's changes go into one <see cref="RocksDbSharp.WriteBatch"/> only when it
/// commits. Elements and index entries are read from the store in the same way.
/// </summary>
internal sealed class RocksDbBatchTransaction(RecordCache cache, RocksDbStore store) : BatchTransaction(cache)
{
    private readonly IElementReader _elements = store.ElementSpace.WriterReader(store);
    private readonly IElementReader _index = store.IndexSpace.WriterReader(store);

    protected override IElementReader StoredElements => _elements;

    protected override IElementReader StoredIndex => _index;

    protected override bool TryReadStored(ReadOnlySpan<byte> key, out long storedExpiry, out StoredRecord? liveRecord) =>
        store.TryReadStoredKey(key, NowUnixMs, out storedExpiry, out liveRecord);
}
