using System.Diagnostics.CodeAnalysis;
using Dynamite.Core.KeyValue;

namespace Dynamite.Storage;

/// <summary>
/// The writes of several operations held back and applied later as one operation, so that one storage commit makes all
/// of them durable or none (a transaction's EXEC on a single node). Each staged operation runs inside an engine
/// operation of its own (<see cref="Staging"/>): it reads the committed state through the engine's transaction and this
/// stage's changes over it, and writes only into this stage. <see cref="Commit"/> is the operation that writes them all.
/// An operation that throws leaves nothing staged, as it would write nothing to an engine.
/// Not thread-safe: a transaction's commands run one after another.
/// </summary>
public sealed class TransactionStage
{
    private readonly StageView _view = new();

    /// <summary>True while nothing is staged.</summary>
    public bool IsEmpty => !_view.HasStaged;

    /// <summary>The record, element and index changes staged, every change of a key counted.</summary>
    public int ChangeCount => _view.Changes.Count + _view.ElementChanges.Count + _view.IndexChanges.Count;

    /// <summary>An operation over the same keys that runs <paramref name="operation"/> against this stage over the engine's state.</summary>
    public IStorageOperation Staging(IStorageOperation operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return new StagingOperation(_view, operation);
    }

    /// <summary>
    /// What a read of <paramref name="key"/> finds in the stage: null when nothing is staged for it (read the engine);
    /// else whether the staged change leaves a live record, which is then in <paramref name="record"/>.
    /// </summary>
    public bool? TryReadStaged(ReadOnlySpan<byte> key, long nowUnixMs, out StoredRecord record) =>
        _view.Changes.TryReadLive(key, nowUnixMs, out record);

    /// <summary>
    /// The one operation that writes every staged change: each key's last record change, and the element changes in the
    /// order they were staged. Run it once; <see cref="Clear"/> the stage after it committed.
    /// </summary>
    public IStorageOperation Commit() => new CommitOperation([.. _view.Changes.Changes], [.. _view.ElementChanges.Changes], [.. _view.IndexChanges.Changes]);

    /// <summary>Forgets everything staged.</summary>
    public void Clear()
    {
        _view.ClearStaged();
    }

    /// <summary>The stage over one engine transaction: the transaction an operation gets while it is staged.</summary>
    private sealed class StageView : StagedTransaction, IElementReader
    {
        /// <summary>The engine's transaction of the operation running now.</summary>
        public IStorageTransaction Engine { get; set; } = null!;

        protected override IElementReader StoredElements => this;

        protected override IElementReader StoredIndex => _index ??= new EngineIndex(this);

        private EngineIndex? _index;

        public override bool TryRead(ReadOnlySpan<byte> key, out StoredRecord record) =>
            Changes.TryReadLive(key, NowUnixMs, out record) ?? Engine.TryRead(key, out record);

        bool IElementReader.TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value) =>
            Engine.TryReadElement(key, element, out value);

        bool IElementReader.ReadElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit, List<StoredElement> into)
        {
            ElementPage page = Engine.ScanElements(key, afterElement, limit);
            into.AddRange(page.Elements);
            return page.HasMore;
        }

        bool IElementReader.ReadElementsBackward(ReadOnlySpan<byte> key, byte[]? beforeElement, int limit, List<StoredElement> into)
        {
            ElementPage page = Engine.ScanElementsBackward(key, beforeElement, limit);
            into.AddRange(page.Elements);
            return page.HasMore;
        }
    }

    /// <summary>The engine transaction's index entries, as the stage's committed index.</summary>
    private sealed class EngineIndex(StageView view) : IElementReader
    {
        public bool TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value) =>
            throw new NotSupportedException("Index entries are only scanned.");

        public bool ReadElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit, List<StoredElement> into)
        {
            ElementPage page = view.Engine.ScanIndex(key, afterElement, limit);
            into.AddRange(page.Elements);
            return page.HasMore;
        }

        public bool ReadElementsBackward(ReadOnlySpan<byte> key, byte[]? beforeElement, int limit, List<StoredElement> into)
        {
            ElementPage page = view.Engine.ScanIndexBackward(key, beforeElement, limit);
            into.AddRange(page.Elements);
            return page.HasMore;
        }
    }

    private sealed class StagingOperation(StageView view, IStorageOperation inner) : IStorageOperation
    {
        public int TouchedKeyCount => inner.TouchedKeyCount;

        public byte[] GetTouchedKey(int index) => inner.GetTouchedKey(index);

        public void Execute(IStorageTransaction transaction)
        {
            var mark = view.Mark();
            view.Engine = transaction;
            view.NowUnixMs = transaction.NowUnixMs;
            try
            {
                inner.Execute(view);
            }
            catch
            {
                view.TruncateTo(mark);
                throw;
            }
            finally
            {
                view.Engine = null!;
            }
        }
    }

    private sealed class CommitOperation : IStorageOperation
    {
        private readonly List<StagedChange> _records;
        private readonly StagedElementChange[] _elements;
        private readonly StagedElementChange[] _indexEntries;
        private readonly List<byte[]> _keys;

        public CommitOperation(StagedChange[] records, StagedElementChange[] elements, StagedElementChange[] indexEntries)
        {
            // Each key's last record change only, in staging order (an earlier one is superseded; a delete's removal of
            // the key's elements is in the element changes, where it was staged).
            var seen = new HashSet<byte[]>(ByteArrayComparer.Instance);
            _records = [];
            for (int i = records.Length - 1; i >= 0; i--)
            {
                if (seen.Add(records[i].Key))
                {
                    _records.Add(records[i]);
                }
            }

            _records.Reverse();
            _elements = elements;
            _indexEntries = indexEntries;
            _keys = [.. seen];
            foreach (StagedElementChange change in elements)
            {
                if (seen.Add(change.Key))
                {
                    _keys.Add(change.Key);
                }
            }
        }

        public int TouchedKeyCount => _keys.Count;

        public byte[] GetTouchedKey(int index) => _keys[index];

        public void Execute(IStorageTransaction transaction)
        {
            foreach (StagedChange change in _records)
            {
                if (change.Record is { } record)
                {
                    transaction.Write(change.Key, record);
                }
                else
                {
                    transaction.Delete(change.Key);
                }
            }

            foreach (StagedElementChange change in _elements)
            {
                if (change.DeletesAll)
                {
                    transaction.DeleteAllElements(change.Key);
                }
                else if (change.Value is { } value)
                {
                    transaction.WriteElement(change.Key, change.Element!, value);
                }
                else
                {
                    transaction.DeleteElement(change.Key, change.Element!);
                }
            }

            // After the elements: every delete of all of a key's index entries was staged with a delete of all its
            // elements, replayed above, which deleted the entries too. So only the entries staged after a key's last
            // such delete are replayed.
            var lastDeleteAll = new Dictionary<byte[], int>(ByteArrayComparer.Instance);
            for (int i = 0; i < _indexEntries.Length; i++)
            {
                if (_indexEntries[i].DeletesAll)
                {
                    lastDeleteAll[_indexEntries[i].Key] = i;
                }
            }

            for (int i = 0; i < _indexEntries.Length; i++)
            {
                StagedElementChange change = _indexEntries[i];
                if (change.DeletesAll || (lastDeleteAll.TryGetValue(change.Key, out int deletedAt) && i < deletedAt))
                {
                    continue;
                }

                if (change.Value is not null)
                {
                    transaction.WriteIndexEntry(change.Key, change.Element!);
                }
                else
                {
                    transaction.DeleteIndexEntry(change.Key, change.Element!);
                }
            }
        }
    }
}
