namespace Dynamite.Core.KeyValue;

/// <summary>
/// The seam between client protocols and the data: what a front end (RESP, memcached, HTTP) calls.
/// A single node implements it over its local engine; the cluster coordinator implements it over the
/// replicas of each key. Protocols know this interface only, never an engine or a peer.
/// </summary>
public interface IKeyValueStore
{
    /// <summary>The store's current time in Unix milliseconds (from its injected clock), for TTL arithmetic.</summary>
    long NowUnixMs { get; }

    /// <summary>Reads a live record; expired or absent keys return false.</summary>
    bool TryRead(ReadOnlySpan<byte> key, out StoredRecord record);

    /// <summary>Runs an atomic read-modify-write; completes when its changes are applied and durable as configured.</summary>
    ValueTask ExecuteAsync(IStorageOperation operation, CancellationToken cancellationToken = default);

    /// <summary>Keys stored, counting expired ones not yet swept (Redis DBSIZE).</summary>
    long KeyCount { get; }

    long KeysWithExpiryCount { get; }

    /// <summary>A page of live keys in hash order from <paramref name="fromHash"/>; see <see cref="ScanPage"/>.</summary>
    ScanPage Scan(ulong fromHash, int limit);

    /// <summary>Removes every key.</summary>
    ValueTask ClearAsync(CancellationToken cancellationToken = default);
}
