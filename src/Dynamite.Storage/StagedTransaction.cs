using System.Diagnostics.CodeAnalysis;
using Dynamite.Core.KeyValue;

namespace Dynamite.Storage;

/// <summary>
/// What every engine's transaction view shares: writes and deletes are staged (<see cref="Changes"/>,
/// <see cref="ElementChanges"/>, <see cref="IndexChanges"/>) and applied when the engine commits, and element and index
/// reads see the staged changes over the committed ones (<see cref="StoredElements"/>, <see cref="StoredIndex"/>). Index
/// entries are elements with empty values in a keyspace of their own, so one overlay serves both. Each engine supplies
/// the record read and where the committed elements and entries come from.
/// </summary>
internal abstract class StagedTransaction : IStorageTransaction
{
    public StagedChanges Changes { get; } = new();

    public StagedElementChanges ElementChanges { get; } = new();

    /// <summary>The index entries' changes: an entry's value is always empty.</summary>
    public StagedElementChanges IndexChanges { get; } = new();

    public long NowUnixMs { get; set; }

    /// <summary>The committed elements, as the operation's reads of records see the committed state.</summary>
    protected abstract IElementReader StoredElements { get; }

    /// <summary>The committed index entries, read as elements with empty values.</summary>
    protected abstract IElementReader StoredIndex { get; }

    public bool KeepsIndex => true;

    public abstract bool TryRead(ReadOnlySpan<byte> key, out StoredRecord record);

    public void Write(byte[] key, StoredRecord record)
    {
        // Checked here, inside the operation, so a bad write fails that operation alone rather than a whole group.
        ArgumentNullException.ThrowIfNull(key);
        if (record.Value is null)
        {
            throw new ArgumentException("A stored record needs a value array.", nameof(record));
        }

        Changes.Stage(key, record);
    }

    public void Delete(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Changes.Stage(key, null);
        ElementChanges.StageDeleteAll(key);
        IndexChanges.StageDeleteAll(key);
    }

    public bool TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value) =>
        ElementChanges.TryRead(key, element, StoredElements, out value);

    public ElementPage ScanElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit) =>
        ElementChanges.Scan(key, afterElement, limit, StoredElements);

    public ElementPage ScanElementsBackward(ReadOnlySpan<byte> key, byte[]? beforeElement, int limit) =>
        ElementChanges.ScanBackward(key, beforeElement, limit, StoredElements);

    public void WriteElement(byte[] key, byte[] element, byte[] value) => ElementChanges.StageWrite(key, element, value);

    public void DeleteElement(byte[] key, byte[] element) => ElementChanges.StageDelete(key, element);

    public void DeleteAllElements(byte[] key)
    {
        // A key's index entries are derived from its elements: they go together.
        ElementChanges.StageDeleteAll(key);
        IndexChanges.StageDeleteAll(key);
    }

    public void WriteIndexEntry(byte[] key, byte[] entry) => IndexChanges.StageWrite(key, entry, []);

    public void DeleteIndexEntry(byte[] key, byte[] entry) => IndexChanges.StageDelete(key, entry);

    public ElementPage ScanIndex(ReadOnlySpan<byte> key, byte[]? afterEntry, int limit) =>
        IndexChanges.Scan(key, afterEntry, limit, StoredIndex);

    public ElementPage ScanIndexBackward(ReadOnlySpan<byte> key, byte[]? beforeEntry, int limit) =>
        IndexChanges.ScanBackward(key, beforeEntry, limit, StoredIndex);

    /// <summary>Drops every staged change (records, elements, index entries).</summary>
    public void ClearStaged()
    {
        Changes.Clear();
        ElementChanges.Clear();
        IndexChanges.Clear();
    }

    /// <summary>How many changes are staged in each keyspace, to truncate back to (<see cref="TruncateTo"/>).</summary>
    public (int Records, int Elements, int Index) Mark() => (Changes.Count, ElementChanges.Count, IndexChanges.Count);

    /// <summary>Drops the changes staged after <paramref name="mark"/> (an operation that threw).</summary>
    public void TruncateTo((int Records, int Elements, int Index) mark)
    {
        Changes.TruncateTo(mark.Records);
        ElementChanges.TruncateTo(mark.Elements);
        IndexChanges.TruncateTo(mark.Index);
    }

    /// <summary>True when anything is staged.</summary>
    public bool HasStaged => Changes.Count > 0 || ElementChanges.Count > 0 || IndexChanges.Count > 0;
}
