using System.Diagnostics.CodeAnalysis;
using Dynamite.Core.KeyValue;

namespace Dynamite.Storage;

/// <summary>
/// Reads of an engine's committed element keyspace, as the engine's transaction sees it (for a durable engine's group:
/// the database before the group's changes are applied). <see cref="StagedElementChanges"/> overlays the staged
/// changes on these reads.
/// </summary>
internal interface IElementReader
{
    bool TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value);

    /// <summary>
    /// Appends up to <paramref name="limit"/> elements of <paramref name="key"/> whose names sort after
    /// <paramref name="afterElement"/> (null: from the first) to <paramref name="into"/>, in name order, and returns
    /// whether more remain after them.
    /// </summary>
    bool ReadElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit, List<StoredElement> into);
}
