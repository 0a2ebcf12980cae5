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

    protected override IElementReader StoredIndex => _index ??= new IndexReader(this);

    private IndexReader? _index;

    bool IElementReader.TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value) =>
        store.TryReadElement(OpenTransaction(), store.Elements, key, element, out value);

    bool IElementReader.ReadElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit, List<StoredElement> into) =>
        store.ReadElements(OpenTransaction(), store.Elements, key, afterElement, limit, into);

    protected override bool TryReadStored(ReadOnlySpan<byte> key, out long storedExpiry, out StoredRecord? liveRecord)
    {
        return store.TryReadStoredKey(OpenTransaction(), key, NowUnixMs, out storedExpiry, out liveRecord);
    }

    /// <summary>The index entries in the group's transaction. Backward pages walk forwards (the interface's default): LMDB's
    /// long-name runs make a backward cursor walk its own piece of work, not done yet.</summary>
    private sealed class IndexReader(LmdbBatchTransaction group) : IElementReader
    {
        public bool TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value) =>
            group.Store.TryReadElement(group.OpenTransaction(), group.Store.IndexEntries, key, element, out value);

        public bool ReadElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit, List<StoredElement> into) =>
            group.Store.ReadElements(group.OpenTransaction(), group.Store.IndexEntries, key, afterElement, limit, into);
    }

    private LmdbStore Store => store;

    private LightningTransaction OpenTransaction() => Transaction ?? throw new InvalidOperationException("The writer has no write transaction open.");
}
