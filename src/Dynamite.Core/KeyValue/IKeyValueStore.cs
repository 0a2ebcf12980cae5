using Dynamite.Core.Quorum;

namespace Dynamite.Core.KeyValue;

/// <summary>
/// The seam between client protocols and the data: what a front end (RESP, memcached, HTTP) calls.
/// A single node implements it over its local engine; the cluster coordinator implements it over the
/// replicas of each key. Protocols know this interface only, never an engine or a peer.
/// Reads and operations complete synchronously on a single node (no allocation); in a cluster they wait
/// for their quorum and fail with <see cref="StoreUnavailableException"/> when it cannot be reached.
/// </summary>
public interface IKeyValueStore
{
    /// <summary>
    /// True when a write of <paramref name="key"/> must run on another node: a cluster node that is not a primary of the
    /// key (a counter's, hash's or set's change is built from a primary's state, so the front end hands the whole command
    /// to one, <see cref="ForwardCommandAsync"/>). False on a single node.
    /// </summary>
    bool ForwardsWritesOf(ReadOnlySpan<byte> key) => false;

    /// <summary>
    /// Runs a client command on a node that coordinates writes of <paramref name="key"/> and returns its reply as RESP
    /// bytes of <paramref name="protocolVersion"/>, at <paramref name="consistency"/> (the client connection's; null: that
    /// node's defaults). Throws <see cref="StoreUnavailableException"/> when none answers.
    /// </summary>
    ValueTask<byte[]> ForwardCommandAsync(byte[] key, IReadOnlyList<byte[]> arguments, int protocolVersion, ConsistencyLevel? consistency, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("This store runs every command itself.");

    /// <summary>
    /// Runs a transaction (its queued commands as one command's <paramref name="arguments"/>) on a node that coordinates
    /// writes of <paramref name="key"/>, never on two: returns its RESP reply. Throws <see cref="StoreUnavailableException"/>
    /// when none answers (<see cref="StoreUnavailableException.MayBeApplied"/> once it was sent).
    /// </summary>
    ValueTask<byte[]> ForwardTransactionAsync(byte[] key, IReadOnlyList<byte[]> arguments, int protocolVersion, ConsistencyLevel? consistency, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("This store runs every transaction itself.");

    /// <summary>
    /// A view whose writes are held back until it commits them in one storage transaction (EXEC on a single node); null
    /// where the store cannot hold writes back (a cluster node, whose writes are quorum writes of their own).
    /// </summary>
    IStagedKeyValueStore? BeginStaged() => null;

    /// <summary>The store's current time in Unix milliseconds (from its injected clock), for TTL arithmetic.</summary>
    long NowUnixMs { get; }

    /// <summary>
    /// Reads a live record; an expired or absent key is <see cref="ReadResult.NotFound"/>. The key memory
    /// must stay valid until the returned task completes.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="consistency">This request's consistency (null: the store's default); a single node ignores it.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    ValueTask<ReadResult> ReadAsync(ReadOnlyMemory<byte> key, ConsistencyLevel? consistency = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs a read-modify-write over the keys the operation declares; completes when its changes are applied
    /// and durable as configured. Atomic on a single node; in a cluster, see the implementation.
    /// </summary>
    /// <param name="operation">The read-modify-write.</param>
    /// <param name="consistency">This request's consistency (null: the store's default); a single node ignores it.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    ValueTask ExecuteAsync(IStorageOperation operation, ConsistencyLevel? consistency = null, CancellationToken cancellationToken = default);

    /// <summary>Keys stored on this node, counting expired ones not yet swept (Redis DBSIZE).</summary>
    long KeyCount { get; }

    long KeysWithExpiryCount { get; }

    /// <summary>
    /// Key records this node's engine wrote or deleted since it opened (redis-server's dirty counter, INFO's
    /// <c>rdb_changes_since_last_save</c>): a write that changed nothing (a SETBIT of the bit's own value) adds none.
    /// </summary>
    long ChangeCount { get; }

    /// <summary>
    /// The keys DBSIZE reports. A standalone node's <see cref="KeyCount"/> (O(1), expired keys not yet swept included, as
    /// in Redis); a cluster node's live keys among those it stores, as KEYS and SCAN see them (without the tombstones and
    /// emptied typed keys its replica keeps for a while), found by walking them: O(n) there.
    /// </summary>
    long LiveKeyCount => KeyCount;

    /// <summary>A page of live keys in hash order from <paramref name="fromHash"/>; see <see cref="ScanPage"/>.</summary>
    ScanPage Scan(ulong fromHash, int limit);

    /// <summary>Removes every key.</summary>
    ValueTask ClearAsync(CancellationToken cancellationToken = default);
}
