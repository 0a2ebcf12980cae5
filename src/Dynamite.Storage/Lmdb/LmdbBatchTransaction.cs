using System.Diagnostics.CodeAnalysis;
using Dynamite.Core.KeyValue;
using LightningDB;

namespace Dynamite.Storage.Lmdb;

/// <summary>
/// The LMDB group's view (<see cref="BatchTransaction"/>): the committed state is read in the group's write transaction,
/// which nothing has been written to yet (the writer applies the group only when it commits). Elements are read in it too.
/// </summary>
internal sealed class LmdbBatchTransaction(RecordCache cache, LmdbStore store) : BatchTransaction(cache), IElementReader
{
    /// <summary>The group's write transaction; set by the writer before the group's first operation runs, null between groups.</summary>
    public LightningTransaction? Transaction { get; set; }

    protected override IElementReader StoredElements => this;

    protected override IElementReader StoredIndex => _index ??= new LmdbIndexReader(store, OpenTransaction);

    private LmdbIndexReader? _index;

    bool IElementReader.TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value) =>
        store.TryReadElement(OpenTransaction(), store.Elements, key, element, out value);

    bool IElementReader.ReadElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit, List<StoredElement> into) =>
        store.ReadElements(OpenTransaction(), store.Elements, key, afterElement, limit, into);

    protected override bool TryReadStored(ReadOnlySpan<byte> key, out long storedExpiry, out StoredRecord? liveRecord)
    {
        return store.TryReadStoredKey(OpenTransaction(), key, NowUnixMs, out storedExpiry, out liveRecord);
    }


    private LightningTransaction OpenTransaction() => Transaction ?? throw new InvalidOperationException("The writer has no write transaction open.");
}
