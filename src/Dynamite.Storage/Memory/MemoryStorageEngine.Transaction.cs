using Dynamite.Core.KeyValue;

namespace Dynamite.Storage.Memory;

/// <summary>The memory engine's transaction view: staged record and element changes over the committed maps.</summary>
public sealed partial class MemoryStorageEngine
{
    /// <summary>The reusable transaction view; used only under the engine's write lock.</summary>
    private sealed class Transaction(MemoryStorageEngine engine) : StagedTransaction
    {
        protected override IElementReader StoredElements => engine._elements;

        protected override IElementReader StoredIndex => engine._index;

        public void Begin(long nowUnixMs) => NowUnixMs = nowUnixMs;

        public override bool TryRead(ReadOnlySpan<byte> key, out StoredRecord record)
        {
            return Changes.TryReadLive(key, NowUnixMs, out record) ?? engine.TryRead(key, NowUnixMs, out record);
        }
    }
}
