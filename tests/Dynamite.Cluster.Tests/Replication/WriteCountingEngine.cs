using System.Diagnostics.CodeAnalysis;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;
using Dynamite.Storage;

namespace Dynamite.Cluster.Tests.Replication;

/// <summary>An engine decorator that counts the writes and deletes (of records and elements) operations stage, to prove a no-op merge writes nothing.</summary>
internal sealed class WriteCountingEngine(IStorageEngine inner) : IStorageEngine
{
    private int _stagedWrites;

    public int StagedWrites => Volatile.Read(ref _stagedWrites);

    public string Name => inner.Name;

    public KeyPartitioner Partitioner => inner.Partitioner;

    public long KeyCount => inner.KeyCount;

    public IKeyChangeListener? ChangeListener
    {
        get => inner.ChangeListener;
        set => inner.ChangeListener = value;
    }

    public long KeysWithExpiryCount => inner.KeysWithExpiryCount;

    public long ChangedRecordCount => inner.ChangedRecordCount;

    public bool TryRead(ReadOnlySpan<byte> key, long nowUnixMs, out StoredRecord record) => inner.TryRead(key, nowUnixMs, out record);

    public bool TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value) =>
        inner.TryReadElement(key, element, out value);

    public ElementPage ScanElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit) => inner.ScanElements(key, afterElement, limit);

    public ElementPage ScanIndex(ReadOnlySpan<byte> key, byte[]? bound, int limit, bool backward) => inner.ScanIndex(key, bound, limit, backward);

    public ValueTask ExecuteAsync(IStorageOperation operation, long nowUnixMs, CancellationToken cancellationToken = default) =>
        inner.ExecuteAsync(new CountingOperation(this, operation), nowUnixMs, cancellationToken);

    public ScanPage Scan(ulong fromHash, int limit, long nowUnixMs) => inner.Scan(fromHash, limit, nowUnixMs);

    public IEnumerable<StoredEntry> ReadPartition(PartitionId partition, long nowUnixMs) => inner.ReadPartition(partition, nowUnixMs);

    public ValueTask<int> RemoveExpiredAsync(long nowUnixMs, int maxKeys, List<byte[]>? removedKeys = null, CancellationToken cancellationToken = default) =>
        inner.RemoveExpiredAsync(nowUnixMs, maxKeys, removedKeys, cancellationToken);

    public ValueTask ClearAsync(CancellationToken cancellationToken = default) => inner.ClearAsync(cancellationToken);

    public ValueTask FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();

    private sealed class CountingOperation(WriteCountingEngine owner, IStorageOperation operation) : IStorageOperation
    {
        public int TouchedKeyCount => operation.TouchedKeyCount;

        public byte[] GetTouchedKey(int index) => operation.GetTouchedKey(index);

        public void Execute(IStorageTransaction transaction) => operation.Execute(new CountingTransaction(owner, transaction));
    }

    private sealed class CountingTransaction(WriteCountingEngine owner, IStorageTransaction inner) : IStorageTransaction
    {
        public long NowUnixMs => inner.NowUnixMs;

        public bool TryRead(ReadOnlySpan<byte> key, out StoredRecord record) => inner.TryRead(key, out record);

        public void Write(byte[] key, StoredRecord record)
        {
            Interlocked.Increment(ref owner._stagedWrites);
            inner.Write(key, record);
        }

        public void Delete(byte[] key)
        {
            Interlocked.Increment(ref owner._stagedWrites);
            inner.Delete(key);
        }

        public bool TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value) =>
            inner.TryReadElement(key, element, out value);

        public ElementPage ScanElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit) => inner.ScanElements(key, afterElement, limit);

        public void WriteElement(byte[] key, byte[] element, byte[] value)
        {
            Interlocked.Increment(ref owner._stagedWrites);
            inner.WriteElement(key, element, value);
        }

        public void DeleteElement(byte[] key, byte[] element)
        {
            Interlocked.Increment(ref owner._stagedWrites);
            inner.DeleteElement(key, element);
        }

        public void DeleteAllElements(byte[] key)
        {
            Interlocked.Increment(ref owner._stagedWrites);
            inner.DeleteAllElements(key);
        }

        // Index entries are derived from the elements: not counted as writes of their own.
        public bool KeepsIndex => inner.KeepsIndex;

        public void WriteIndexEntry(byte[] key, byte[] entry) => inner.WriteIndexEntry(key, entry);

        public void DeleteIndexEntry(byte[] key, byte[] entry) => inner.DeleteIndexEntry(key, entry);

        public ElementPage ScanIndex(ReadOnlySpan<byte> key, byte[]? afterEntry, int limit) => inner.ScanIndex(key, afterEntry, limit);

        public ElementPage ScanIndexBackward(ReadOnlySpan<byte> key, byte[]? beforeEntry, int limit) => inner.ScanIndexBackward(key, beforeEntry, limit);
    }
}
