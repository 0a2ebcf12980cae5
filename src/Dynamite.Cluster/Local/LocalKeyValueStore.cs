using Dynamite.Core.KeyValue;
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

    public long KeysWithExpiryCount => engine.KeysWithExpiryCount;

    public bool TryRead(ReadOnlySpan<byte> key, out StoredRecord record) => engine.TryRead(key, NowUnixMs, out record);

    public ValueTask ExecuteAsync(IStorageOperation operation, CancellationToken cancellationToken = default) =>
        engine.ExecuteAsync(operation, NowUnixMs, cancellationToken);

    public ScanPage Scan(ulong fromHash, int limit) => engine.Scan(fromHash, limit, NowUnixMs);

    public ValueTask ClearAsync(CancellationToken cancellationToken = default) => engine.ClearAsync(cancellationToken);
}
