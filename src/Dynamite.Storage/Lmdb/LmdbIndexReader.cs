using System.Diagnostics.CodeAnalysis;
using Dynamite.Core.KeyValue;
using LightningDB;

namespace Dynamite.Storage.Lmdb;

/// <summary>
/// The index entries (<see cref="LmdbStore.IndexEntries"/>) as one transaction sees them. Backward pages walk forwards
/// (<see cref="IElementReader"/>'s default, O(n) in the key's entries): LMDB's runs of long names make a backward cursor
/// walk a piece of work of its own, not done yet, so a sorted set's reads from the top cost O(n) on this engine.
/// </summary>
internal sealed class LmdbIndexReader(LmdbStore store, Func<LightningTransaction> transaction) : IElementReader
{
    public bool TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value) =>
        store.TryReadElement(transaction(), store.IndexEntries, key, element, out value);

    public bool ReadElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit, List<StoredElement> into) =>
        store.ReadElements(transaction(), store.IndexEntries, key, afterElement, limit, into);
}
