using System.Diagnostics.CodeAnalysis;
using Dynamite.Core.KeyValue;

namespace Dynamite.Storage.Memory;

/// <summary>The memory engine's transaction view: staged record and element changes over the committed maps.</summary>
public sealed partial class MemoryStorageEngine
{
    /// <summary>The reusable transaction view; used only under the engine's write lock.</summary>
    private sealed class Transaction(MemoryStorageEngine engine) : IStorageTransaction
    {
        public StagedChanges Changes { get; } = new();

        public StagedElementChanges ElementChanges { get; } = new();

        public long NowUnixMs { get; private set; }

        public void Begin(long nowUnixMs) => NowUnixMs = nowUnixMs;

        public bool TryRead(ReadOnlySpan<byte> key, out StoredRecord record)
        {
            if (Changes.TryFind(key, out StagedChange change))
            {
                record = change.Record.GetValueOrDefault();
                return change.Record is { } staged && !staged.IsExpiredAt(NowUnixMs);
            }

            return engine.TryRead(key, NowUnixMs, out record);
        }

        public void Write(byte[] key, StoredRecord record)
        {
            ArgumentNullException.ThrowIfNull(key);
            ArgumentNullException.ThrowIfNull(record.Value);
            Changes.Stage(key, record);
        }

        public void Delete(byte[] key)
        {
            ArgumentNullException.ThrowIfNull(key);
            Changes.Stage(key, null);
            ElementChanges.StageDeleteAll(key);
        }

        public bool TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value) =>
            ElementChanges.TryRead(key, element, engine, out value);

        public ElementPage ScanElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit) =>
            ElementChanges.Scan(key, afterElement, limit, engine);

        public void WriteElement(byte[] key, byte[] element, byte[] value) => ElementChanges.StageWrite(key, element, value);

        public void DeleteElement(byte[] key, byte[] element) => ElementChanges.StageDelete(key, element);

        public void DeleteAllElements(byte[] key) => ElementChanges.StageDeleteAll(key);
    }
}
