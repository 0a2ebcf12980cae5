using System.Diagnostics.CodeAnalysis;
using Dynamite.Core.KeyValue;

namespace Dynamite.Storage;

/// <summary>
/// What every engine's transaction view shares: writes and deletes are staged (<see cref="Changes"/>,
/// <see cref="ElementChanges"/>) and applied when the engine commits, and element reads see the staged element changes
/// over the committed elements (<see cref="StoredElements"/>). Each engine supplies the record read and where the
/// committed elements come from.
/// </summary>
internal abstract class StagedTransaction : IStorageTransaction
{
    public StagedChanges Changes { get; } = new();

    public StagedElementChanges ElementChanges { get; } = new();

    public long NowUnixMs { get; set; }

    /// <summary>The committed elements, as the operation's reads of records see the committed state.</summary>
    protected abstract IElementReader StoredElements { get; }

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
    }

    public bool TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value) =>
        ElementChanges.TryRead(key, element, StoredElements, out value);

    public ElementPage ScanElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit) =>
        ElementChanges.Scan(key, afterElement, limit, StoredElements);

    public ElementPage ScanElementsBackward(ReadOnlySpan<byte> key, byte[]? beforeElement, int limit) =>
        ElementChanges.ScanBackward(key, beforeElement, limit, StoredElements);

    public void WriteElement(byte[] key, byte[] element, byte[] value) => ElementChanges.StageWrite(key, element, value);

    public void DeleteElement(byte[] key, byte[] element) => ElementChanges.StageDelete(key, element);

    public void DeleteAllElements(byte[] key) => ElementChanges.StageDeleteAll(key);
}
