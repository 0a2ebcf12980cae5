using Dynamite.Core.KeyValue;
using Dynamite.Core.Quorum;
using Dynamite.Storage;

namespace Dynamite.Cluster.Local;

/// <summary>
/// A single node's store: every key lives in the local engine. The clock is injected so that tests and
/// the simulation drive time; the engine itself never reads it.
/// </summary>
public sealed class LocalKeyValueStore(IStorageEngine engine, TimeProvider clock) : IKeyValueStore
{
    public IStorageEngine Engine => engine;

    public long NowUnixMs => clock.GetUtcNow().ToUnixTimeMilliseconds();

    public long KeyCount => engine.KeyCount;

    public long ChangeCount => engine.ChangedRecordCount;

    public long KeysWithExpiryCount => engine.KeysWithExpiryCount;

    public ValueTask<ReadResult> ReadAsync(ReadOnlyMemory<byte> key, ConsistencyLevel? consistency = null, CancellationToken cancellationToken = default) =>
        new(engine.TryRead(key.Span, NowUnixMs, out StoredRecord record) ? ReadResult.Of(record) : ReadResult.NotFound);

    public ValueTask ExecuteAsync(IStorageOperation operation, ConsistencyLevel? consistency = null, CancellationToken cancellationToken = default) =>
        engine.ExecuteAsync(operation, NowUnixMs, cancellationToken);

    public IStagedKeyValueStore BeginStaged() => new StagedLocalStore(this);

    public ScanPage Scan(ulong fromHash, int limit) => engine.Scan(fromHash, limit, NowUnixMs);

    public ValueTask ClearAsync(CancellationToken cancellationToken = default) => engine.ClearAsync(cancellationToken);
}
