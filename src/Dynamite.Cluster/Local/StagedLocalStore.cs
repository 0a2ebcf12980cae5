using Dynamite.Core.KeyValue;
using Dynamite.Core.Quorum;
using Dynamite.Storage;

namespace Dynamite.Cluster.Local;

/// <summary>
/// A single node's store with its writes held back in a <see cref="TransactionStage"/> (<see cref="LocalKeyValueStore.BeginStaged"/>):
/// each operation runs on the engine's writer as any other, over the committed state and what is staged, and writes
/// only into the stage; <see cref="CommitAsync"/> writes the stage as one engine operation, one commit. Key reads see the
/// stage; the keyspace-wide reads (<see cref="Scan"/>, the key counts) see only what is committed, so whoever runs a
/// command that needs them commits first. Not thread-safe: one transaction's commands run one after another.
/// </summary>
internal sealed class StagedLocalStore(LocalKeyValueStore store) : IStagedKeyValueStore
{
    private readonly TransactionStage _stage = new();

    public bool IsEmpty => _stage.IsEmpty;

    public int StagedChangeCount => _stage.ChangeCount;

    public long NowUnixMs => store.NowUnixMs;

    public long KeyCount => store.KeyCount;

    public long KeysWithExpiryCount => store.KeysWithExpiryCount;

    public long ChangeCount => store.ChangeCount;

    public ValueTask<ReadResult> ReadAsync(ReadOnlyMemory<byte> key, ConsistencyLevel? consistency = null, CancellationToken cancellationToken = default) =>
        _stage.TryReadStaged(key.Span, NowUnixMs, out StoredRecord record) switch
        {
            true => new(ReadResult.Of(record)),
            false => new(ReadResult.NotFound),
            null => store.ReadAsync(key, consistency, cancellationToken),
        };

    public ValueTask ExecuteAsync(IStorageOperation operation, ConsistencyLevel? consistency = null, CancellationToken cancellationToken = default) =>
        store.ExecuteAsync(_stage.Staging(operation), consistency, cancellationToken);

    public async ValueTask CommitAsync(CancellationToken cancellationToken = default)
    {
        if (_stage.IsEmpty)
        {
            return;
        }

        // Not cancellable once queued: a commit the engine may have made must not be reported as not made.
        await store.ExecuteAsync(_stage.Commit(), consistency: null, CancellationToken.None);
        _stage.Clear();
    }

    public ScanPage Scan(ulong fromHash, int limit) => store.Scan(fromHash, limit);

    public ValueTask ClearAsync(CancellationToken cancellationToken = default)
    {
        _stage.Clear();
        return store.ClearAsync(cancellationToken);
    }
}
