using System.Diagnostics.CodeAnalysis;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;

namespace Dynamite.Storage;

/// <summary>
/// A local, partition-aware key-value engine. Keys are ordered by their XXH64 hash, so a partition
/// (a contiguous hash range, see <see cref="KeyPartitioner"/>) and a resumable scan are range reads.
/// Engines never read the clock: callers pass the time, which keeps expiry deterministic under simulation.
/// Beside the key records, an element keyspace ordered by (key hash, key, element name) holds the elements of typed
/// keys (docs/DATA-TYPES.md, "Storage"; <see cref="IStorageTransaction"/> says how the two change together).
/// Every engine passes the shared contract test suite (tests/Dynamite.Storage.Tests).
/// </summary>
public interface IStorageEngine : IAsyncDisposable
{
    /// <summary>The engine's name as the configuration spells it ("memory", "sqlite").</summary>
    string Name { get; }

    KeyPartitioner Partitioner { get; }

    /// <summary>Reads a live record without blocking on writers. Expired records read as absent.</summary>
    bool TryRead(ReadOnlySpan<byte> key, long nowUnixMs, out StoredRecord record);

    /// <summary>Reads element <paramref name="element"/> of <paramref name="key"/> without blocking on writers. Elements carry
    /// no expiry: this does not consult the key's record.</summary>
    bool TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value);

    /// <summary>
    /// A page of <paramref name="key"/>'s elements without blocking on writers, as
    /// <see cref="IStorageTransaction.ScanElements"/> reads them (null <paramref name="afterElement"/>: from the first).
    /// One page is read at one point in time; writes between pages may or may not be seen by the next one, but an
    /// element present throughout is returned exactly once.
    /// </summary>
    ElementPage ScanElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit);

    /// <summary>
    /// A page of <paramref name="key"/>'s index entries (<see cref="IStorageTransaction.KeepsIndex"/>) without blocking on
    /// writers, from <paramref name="bound"/> (exclusive; null: from the first, or the last when <paramref name="backward"/>)
    /// in byte order, or last first when <paramref name="backward"/>, with the consistency of <see cref="ScanElements"/>.
    /// </summary>
    ElementPage ScanIndex(ReadOnlySpan<byte> key, byte[]? bound, int limit, bool backward);

    /// <summary>
    /// Runs <paramref name="operation"/> atomically. The returned task completes when its changes are
    /// applied and as durable as the engine's durability setting promises; readers see them from then on.
    /// </summary>
    ValueTask ExecuteAsync(IStorageOperation operation, long nowUnixMs, CancellationToken cancellationToken = default);

    /// <summary>Told the keys each commit changed, once it has completed; null: nobody listens.</summary>
    IKeyChangeListener? ChangeListener { get; set; }

    /// <summary>Stored keys, counting expired keys the sweep has not removed yet (as Redis DBSIZE does).</summary>
    long KeyCount { get; }

    /// <summary>Stored keys that carry an expiry.</summary>
    long KeysWithExpiryCount { get; }

    /// <summary>Key records written or deleted by the commits since the engine opened (element writes not counted).</summary>
    long ChangedRecordCount { get; }

    /// <summary>
    /// Up to about <paramref name="limit"/> live keys with hash &gt;= <paramref name="fromHash"/>, in hash order.
    /// Keys with equal hashes are never split across pages, so resuming from <see cref="ScanPage.NextHash"/>
    /// returns every key that existed for the whole scan at least once.
    /// </summary>
    ScanPage Scan(ulong fromHash, int limit, long nowUnixMs);

    /// <summary>Every live record of one partition (for handoff and anti-entropy).</summary>
    IEnumerable<StoredEntry> ReadPartition(PartitionId partition, long nowUnixMs);

    /// <summary>
    /// The active expiry sweep: removes up to <paramref name="maxKeys"/> expired keys with their elements, returns how many,
    /// and adds each removed key to <paramref name="removedKeys"/> when one is given (for keyspace notifications).
    /// </summary>
    ValueTask<int> RemoveExpiredAsync(long nowUnixMs, int maxKeys, List<byte[]>? removedKeys = null, CancellationToken cancellationToken = default);

    /// <summary>Removes every key and element (FLUSHALL).</summary>
    ValueTask ClearAsync(CancellationToken cancellationToken = default);

    /// <summary>Makes every acknowledged write durable; called on shutdown.</summary>
    ValueTask FlushAsync(CancellationToken cancellationToken = default);
}
