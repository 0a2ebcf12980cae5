using System.Diagnostics.CodeAnalysis;
using Dynamite.Core.KeyValue;

namespace Dynamite.Storage.RocksDb;

/// <summary>
/// The RocksDB group's view (<see cref="BatchTransaction"/>): the committed state is a plain read of the database, since
/// only the writer thread writes and the group's changes go into one <see cref="RocksDbSharp.WriteBatch"/> only when it
/// commits. Elements are read from the store in the same way.
/// </summary>
internal sealed class RocksDbBatchTransaction(RecordCache cache, RocksDbStore store) : BatchTransaction(cache), IElementReader
{
    protected override IElementReader StoredElements => this;

    protected override bool TryReadStored(ReadOnlySpan<byte> key, out long storedExpiry, out StoredRecord? liveRecord) =>
        store.TryReadStoredKey(key, NowUnixMs, out storedExpiry, out liveRecord);

    bool IElementReader.TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value) =>
        store.TryReadElement(key, element, out value);

    bool IElementReader.ReadElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit, List<StoredElement> into) =>
        store.ReadElements(key, afterElement, limit, into, onWriterThread: true);

    bool IElementReader.ReadElementsBackward(ReadOnlySpan<byte> key, byte[]? beforeElement, int limit, List<StoredElement> into) =>
        store.ReadElementsBackward(key, beforeElement, limit, into, onWriterThread: true);
}
