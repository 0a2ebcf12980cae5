using System.Diagnostics.CodeAnalysis;
using Dynamite.Core.KeyValue;
using RocksDbSharp;

namespace Dynamite.Storage.RocksDb;

/// <summary>
/// One element keyspace of the store (its elements, or its index entries), keyed as <see cref="RocksDbKeys"/> says, with
/// the ends of keys' ranges its writer last read (<see cref="RocksDbElementEnds"/>), so reads from an end skip the
/// tombstones of earlier deletes at that end in either keyspace.
/// </summary>
internal sealed record RocksDbElementSpace(ColumnFamilyHandle Family, RocksDbElementEnds Ends)
{
    /// <summary>This keyspace as a group on the writer thread reads it (remembering the ends it finds).</summary>
    public IElementReader WriterReader(RocksDbStore store) => new Reader(store, this);

    private sealed class Reader(RocksDbStore store, RocksDbElementSpace space) : IElementReader
    {
        public bool TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value) =>
            store.TryReadElement(space, key, element, out value);

        public bool ReadElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit, List<StoredElement> into) =>
            store.ReadElements(space, key, afterElement, limit, into, onWriterThread: true);

        public bool ReadElementsBackward(ReadOnlySpan<byte> key, byte[]? beforeElement, int limit, List<StoredElement> into) =>
            store.ReadElementsBackward(space, key, beforeElement, limit, into, onWriterThread: true);
    }
}
