using Dynamite.Core.AntiEntropy;
using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Versioning;
using Dynamite.Storage;

namespace Dynamite.Cluster.Replication;

/// <summary>
/// A replica's view of its local engine: every record's value is an encoded <see cref="VersionedObject"/>
/// (siblings plus causal context), never a bare value, except a typed key's header, which only
/// <see cref="TypedKeys"/> writes (docs/DATA-TYPES.md). Writes go through one atomic
/// <see cref="IStorageOperation"/> each (read, merge or update, write), so concurrent puts, read repairs and
/// hint replays for one key never lose each other's siblings.
/// <para>
/// Engine-level expiry: a record's <see cref="StoredRecord.ExpiresAtUnixMs"/> is the latest expiry among its
/// siblings when every sibling has one (a tombstone counts as never expiring), else 0. The engine's expiry
/// sweep therefore removes an object only once all of its values have expired; since expiries are absolute
/// times carried in the object, every replica holding the same object drops it at the same moment.
/// </para>
/// <para>
/// Threading: thread-safe; atomicity comes from the engine, the clock is read once per call.
/// A stored record that does not decode is reported with <see cref="InvalidDataException"/>, never treated
/// as absent: a replica that silently forgot a corrupted key would answer "not found" to a quorum read.
/// </para>
/// </summary>
public sealed class ReplicaStore
{
    private readonly IStorageEngine _engine;
    private readonly TimeProvider _clock;
    private readonly IReplicaWriteListener? _listener;
    private long _flushedBeforeUnixMs;

    /// <param name="engine">The node's engine.</param>
    /// <param name="clock">The node's clock.</param>
    /// <param name="listener">Told of every committed change (anti-entropy trees); called after the engine commits.</param>
    public ReplicaStore(IStorageEngine engine, TimeProvider clock, IReplicaWriteListener? listener = null)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(clock);
        _engine = engine;
        _clock = clock;
        _listener = listener;
        TypedKeys = new TypedKeyReplica(engine, clock, listener);
    }

    public IStorageEngine Engine => _engine;

    /// <summary>The typed keys (hashes, sets, counters) this replica holds: the deltas they are changed by.</summary>
    public TypedKeyReplica TypedKeys { get; }

    /// <summary>Stored keys, tombstones and expired keys the sweep has not removed yet included.</summary>
    public long KeyCount => _engine.KeyCount;

    internal long NowUnixMs => _clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// The time a write coordinated here is stamped with: now, or just after the last flush's horizon when this clock
    /// lags the flush coordinator's, so a write made after this node applied a flush is never taken for a flushed one.
    /// </summary>
    internal long WriteStampUnixMs => Math.Max(NowUnixMs, FlushedBeforeUnixMs + 1);

    /// <summary>The engine-level expiry of <paramref name="obj"/>: see the class remarks.</summary>
    public static long RecordExpiryOf(VersionedObject obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        long latest = 0;
        foreach (Sibling sibling in obj.Siblings)
        {
            if (sibling.IsTombstone || !sibling.HasExpiry)
            {
                return 0;
            }

            latest = Math.Max(latest, sibling.ExpiresAtUnixMs);
        }

        return latest;
    }

    /// <summary>
    /// The stored object's bytes as they are (the canonical encoding), or null when absent: what a replica
    /// read sends, without a decode and re-encode. The coordinator decodes it, and a damaged record fails there.
    /// </summary>
    public byte[]? ReadEncoded(ReadOnlySpan<byte> key) =>
        _engine.TryRead(key, NowUnixMs, out StoredRecord record) ? Plain(key, record).Value : null;

    /// <summary>The stored object, or null when the key is absent (or expired at the engine level).</summary>
    public VersionedObject? Read(ReadOnlySpan<byte> key) =>
        _engine.TryRead(key, NowUnixMs, out StoredRecord record) ? Decode(key, Plain(key, record).Value) : null;

    /// <summary>
    /// The stored object and its version digest (XXH64 of the stored encoding, what a conditional replica read
    /// compares); null and 0 when the key is absent.
    /// </summary>
    public VersionedObject? Read(ReadOnlySpan<byte> key, out ulong versionDigest)
    {
        if (!_engine.TryRead(key, NowUnixMs, out StoredRecord record))
        {
            versionDigest = 0;
            return null;
        }

        versionDigest = PartitionMerkleTree.VersionDigest(Plain(key, record).Value);
        return Decode(key, record.Value);
    }

    /// <summary>
    /// Merges <paramref name="incoming"/> into the stored object (a ReplicaPut, a read repair, a hint replay)
    /// and writes the result only when it differs from what was stored. Returns the object now stored
    /// (<see cref="VersionedObject.Empty"/> when both were empty). The engine keeps <paramref name="key"/>:
    /// pass an array nobody mutates.
    /// </summary>
    public ValueTask<VersionedObject> MergeAsync(byte[] key, VersionedObject incoming, CancellationToken ct = default) =>
        MergeAsync(key, incoming, incomingEncoded: null, ct);

    /// <summary>
    /// As <see cref="MergeAsync(byte[], VersionedObject, CancellationToken)"/>, with the bytes
    /// <paramref name="incoming"/> was decoded from: when the merge result is the incoming object (a new key, or
    /// a copy that supersedes the local one) those bytes are stored as they are. The encoding is canonical, so
    /// they are exactly what re-encoding would produce; a replica write then costs no encode.
    /// </summary>
    public async ValueTask<VersionedObject> MergeAsync(byte[] key, VersionedObject incoming, byte[]? incomingEncoded, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(incoming);
        if (WithoutFlushedWrites(incoming) is { } kept && !ReferenceEquals(kept, incoming))
        {
            if (kept.Siblings.IsEmpty)
            {
                // Everything it carried was written before a FLUSHALL: nothing to store.
                return _engine.TryRead(key, NowUnixMs, out StoredRecord stored) && !stored.IsTypedHeader ? Decode(key, stored.Value) : VersionedObject.Empty;
            }

            incoming = kept;
            incomingEncoded = null;
        }
        var operation = new MergeOperation(key, incoming, incomingEncoded);
        await _engine.ExecuteAsync(operation, NowUnixMs, ct);
        if (operation.WrittenEncoded is { } written)
        {
            _listener?.OnWritten(key, operation.PreviousEncoded, written);
        }

        return operation.Result!;
    }

    /// <summary>
    /// Applies one transaction's changes (a <see cref="Core.Peer.Messages.ReplicaBatch"/>) in one storage operation, in
    /// order: each object is merged as <see cref="MergeAsync(byte[], VersionedObject, byte[], CancellationToken)"/> merges
    /// it, each delta joined as <see cref="TypedKeyReplica.JoinAsync"/> joins it, and the engine stores all of them or,
    /// if it fails, none. The listener hears of every key changed once they are stored. The engine keeps the keys: pass
    /// arrays nobody mutates.
    /// </summary>
    public async ValueTask ApplyBatchAsync(IReadOnlyList<ReplicaChange> changes, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var parts = new List<IStorageOperation>(changes.Count);
        foreach (ReplicaChange change in changes)
        {
            if (change.Delta is { } delta)
            {
                parts.Add(TypedKeys.JoinOf(change.Key, delta));
                continue;
            }

            VersionedObject incoming = change.Incoming ?? throw new ArgumentException("a replica change carries an object or a delta", nameof(changes));
            byte[]? encoded = change.EncodedObject;
            if (WithoutFlushedWrites(incoming) is { } kept && !ReferenceEquals(kept, incoming))
            {
                if (kept.Siblings.IsEmpty)
                {
                    // Everything it carried was written before a FLUSHALL: nothing to store for this key.
                    continue;
                }

                incoming = kept;
                encoded = null;
            }

            parts.Add(new MergeOperation(change.Key, incoming, encoded));
        }

        if (parts.Count == 0)
        {
            return;
        }

        await _engine.ExecuteAsync(new ReplicaBatchOperation(parts), NowUnixMs, ct);
        foreach (IStorageOperation part in parts)
        {
            if (part is MergeOperation merge)
            {
                if (merge.WrittenEncoded is { } written)
                {
                    _listener?.OnWritten(merge.Key, merge.PreviousEncoded, written);
                }
            }
            else
            {
                TypedKeys.OnJoined(part);
            }
        }
    }

    /// <summary>
    /// The coordinating replica's write: updates the stored object with <paramref name="value"/> (null writes a
    /// tombstone) as <paramref name="actor"/>'s next event. A null <paramref name="clientContext"/> means
    /// "supersede everything this replica has seen" (a plain Redis SET under last-writer-wins); otherwise
    /// the siblings the context has not seen stay as concurrent siblings. Returns the new object, which the
    /// coordinator then sends to the other replicas. The engine keeps <paramref name="key"/> and
    /// <paramref name="value"/>: pass arrays nobody mutates.
    /// </summary>
    public async ValueTask<VersionedObject> UpdateAsync(
        byte[] key,
        VersionVector? clientContext,
        NodeId actor,
        byte[]? value,
        long expiresAtUnixMs,
        CancellationToken ct = default) =>
        (await UpdateEncodedAsync(key, clientContext, actor, value, null, expiresAtUnixMs, ct)).Written;

    /// <summary>
    /// As <see cref="UpdateAsync"/>, also returning the bytes stored: the canonical encoding, which the coordinator
    /// sends to the other replicas as it is (a large value is not encoded a second time). <paramref name="bitPatches"/>:
    /// the fields a bit command wrote (<see cref="Sibling.BitPatches"/>); null for a whole value.
    /// </summary>
    public async ValueTask<(VersionedObject Written, byte[] Encoded)> UpdateEncodedAsync(
        byte[] key,
        VersionVector? clientContext,
        NodeId actor,
        byte[]? value,
        byte[]? bitPatches,
        long expiresAtUnixMs,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (actor.Value is null)
        {
            throw new ArgumentException("The actor id must not be default.", nameof(actor));
        }

        var operation = new UpdateOperation(key, clientContext, actor, value, expiresAtUnixMs, bitPatches);
        await _engine.ExecuteAsync(operation, WriteStampUnixMs, ct);
        if (operation.Stored)
        {
            _listener?.OnWritten(key, operation.PreviousEncoded, operation.WrittenEncoded!);
        }

        return (operation.Result!, operation.WrittenEncoded!);
    }

    /// <summary>
    /// As <see cref="UpdateEncodedAsync"/> for several keys at once, in one storage operation (a transaction's writes on
    /// its coordinating replica): all are stored or, if one fails, none. A live counter among the keys refuses the whole
    /// batch (<see cref="TypedKeyException"/>), as it refuses a single blind write.
    /// </summary>
    public async ValueTask<(VersionedObject Written, byte[] Encoded)[]> UpdateBatchEncodedAsync(IReadOnlyList<ReplicaUpdate> updates, NodeId actor, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(updates);
        if (actor.Value is null)
        {
            throw new ArgumentException("The actor id must not be default.", nameof(actor));
        }

        var operations = new UpdateOperation[updates.Count];
        for (int i = 0; i < operations.Length; i++)
        {
            operations[i] = UpdateOf(updates[i], actor);
        }

        await _engine.ExecuteAsync(new ReplicaBatchOperation(operations), WriteStampUnixMs, ct);
        var results = new (VersionedObject Written, byte[] Encoded)[operations.Length];
        for (int i = 0; i < operations.Length; i++)
        {
            UpdateOperation operation = operations[i];
            if (operation.Stored)
            {
                _listener?.OnWritten(updates[i].Key, operation.PreviousEncoded, operation.WrittenEncoded!);
            }

            results[i] = (operation.Result!, operation.WrittenEncoded!);
        }

        return results;
    }

    /// <summary>
    /// A transaction on keys of <paramref name="partition"/> coordinated here (<see cref="ReplicaTransaction"/>): its writes
    /// are this replica's with dots of <paramref name="actor"/>, held back until it commits them in one storage operation.
    /// </summary>
    public ReplicaTransaction BeginTransaction(PartitionId partition, NodeId actor)
    {
        if (actor.Value is null)
        {
            throw new ArgumentException("The actor id must not be default.", nameof(actor));
        }

        return new ReplicaTransaction(this, partition, actor);
    }

    /// <summary>The coordinating replica's write of <paramref name="update"/> as an operation to run in a larger one (a transaction's).</summary>
    internal static UpdateOperation UpdateOf(ReplicaUpdate update, NodeId actor) =>
        new(update.Key, update.Context, actor, update.Value, update.ExpiresAtUnixMs, update.BitPatches);

    /// <summary>
    /// Tombstone collection's delete: removes <paramref name="key"/> only if the stored object is still exactly
    /// the one named by <paramref name="expectedKeyDigest"/> (<see cref="PartitionMerkleTree.KeyDigest(ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>)
    /// and holds no live value, checked and deleted in one atomic operation. A write that reached the key since
    /// the collector confirmed the digest changes the digest, so it is never lost. True if the key was removed.
    /// </summary>
    public async ValueTask<bool> DeleteTombstoneIfDigestAsync(byte[] key, ulong expectedKeyDigest, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var operation = new DeleteIfDigestOperation(key, expectedKeyDigest, onlyTombstones: true);
        await _engine.ExecuteAsync(operation, NowUnixMs, ct);
        if (operation.RemovedEncoded is { } removed)
        {
            _listener?.OnRemoved(key, removed);
            return true;
        }

        return false;
    }

    /// <summary>
    /// A released partition's delete: removes <paramref name="key"/> only if the stored object is still exactly the
    /// one named by <paramref name="expectedKeyDigest"/> (what was handed to the partition's replicas), checked and
    /// deleted in one atomic operation; a write that arrived since keeps the key. True if the key was removed.
    /// </summary>
    public async ValueTask<bool> DeleteIfDigestAsync(byte[] key, ulong expectedKeyDigest, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var operation = new DeleteIfDigestOperation(key, expectedKeyDigest, onlyTombstones: false);
        await _engine.ExecuteAsync(operation, NowUnixMs, ct);
        if (operation.RemovedEncoded is { } removed)
        {
            _listener?.OnRemoved(key, removed);
            return true;
        }

        return false;
    }

    /// <summary>
    /// Writes stamped at or before this time are dropped when they arrive (<see cref="MergeAsync(byte[], VersionedObject, byte[], CancellationToken)"/>):
    /// the horizon of the last cluster-wide FLUSHALL, so no hint, read repair, anti-entropy copy or late replica write
    /// brings a flushed key back. Only grows; 0: no flush.
    /// </summary>
    public long FlushedBeforeUnixMs
    {
        get => Volatile.Read(ref _flushedBeforeUnixMs);
        set
        {
            long current;
            do
            {
                current = Volatile.Read(ref _flushedBeforeUnixMs);
            }
            while (value > current && Interlocked.CompareExchange(ref _flushedBeforeUnixMs, value, current) != current);
        }
    }

    /// <summary><paramref name="incoming"/> without the siblings a flush removed (the same object when it had none); its context stays, so their dots count as seen.</summary>
    private VersionedObject WithoutFlushedWrites(VersionedObject incoming)
    {
        long horizon = FlushedBeforeUnixMs;
        if (horizon == 0 || !incoming.Siblings.Any(s => s.TimestampUnixMs <= horizon))
        {
            return incoming;
        }

        return VersionedObject.Create(incoming.Context, incoming.Siblings.Where(s => s.TimestampUnixMs > horizon));
    }

    /// <summary>Every stored object of one partition, decoded lazily (for anti-entropy and handoff).</summary>
    public IEnumerable<(byte[] Key, VersionedObject Object)> ReadPartition(PartitionId partition)
    {
        foreach (StoredEntry entry in _engine.ReadPartition(partition, NowUnixMs))
        {
            // Strings only: typed keys travel whole through anti-entropy's own reads (TypedKeyReplica.ReadWholeKeyInPages).
            if (!entry.Record.IsTypedHeader)
            {
                yield return (entry.Key, Decode(entry.Key, entry.Record.Value));
            }
        }
    }

    /// <summary>
    /// <paramref name="record"/> when it holds a versioned object. A typed key's header (written by
    /// <see cref="TypedKeys"/>) is a <see cref="TypedKeyException"/>: the coordinator reads such a key through the typed
    /// path (a write decides between them with <see cref="TryReadForWrite"/>).
    /// </summary>
    internal static StoredRecord Plain(ReadOnlySpan<byte> key, StoredRecord record) =>
        record.IsTypedHeader
            ? throw new TypedKeyException($"Key {KeyText.Format(key)} holds a hash or a set.")
            : record;

    /// <summary>Decodes a stored value; a failure names the key, so an operator can find and repair it.</summary>
    internal static VersionedObject Decode(ReadOnlySpan<byte> key, byte[] stored)
    {
        try
        {
            return VersionedObject.Decode(stored);
        }
        catch (FormatException exception)
        {
            throw new InvalidDataException($"The stored object under key {KeyText.Format(key)} is corrupt: {exception.Message}", exception);
        }
    }

    /// <summary>
    /// The stored string a write merges into. Where a typed key stands (a hash, a set), the mirror of
    /// <see cref="TypedKeyJoin"/>'s rule decides, so replicas converge whichever arrives first: <paramref name="write"/>
    /// replaces the typed key (its header and every element go, in the same write) when its last-writer-wins write is
    /// later than the typed key's creation; otherwise the typed key stays and the write is dropped (false).
    /// <paramref name="local"/> is the stored string (empty when none); <paramref name="encoded"/> the record the write
    /// goes over (a string's bytes, or the typed header it replaces; null when absent).
    /// </summary>
    private static bool TryReadForWrite(IStorageTransaction transaction, byte[] key, VersionedObject write, out VersionedObject local, out byte[]? encoded)
    {
        local = VersionedObject.Empty;
        encoded = null;
        if (!transaction.TryRead(key, out StoredRecord record))
        {
            return true;
        }

        if (record.IsTypedHeader)
        {
            if (TypedKeyJoin.ReplacesString(TypedKeyRecord.Decode(record.Value).Header.Created, write))
            {
                return false;
            }

            // The header leaves the Merkle trees with the key: the caller reports it as the record written over.
            transaction.Delete(key);
            encoded = record.Value;
            return true;
        }

        encoded = record.Value;
        local = Decode(key, encoded);
        return true;
    }

    private static byte[] Write(IStorageTransaction transaction, byte[] key, VersionedObject obj)
    {
        byte[] encoded = obj.Encode();
        transaction.Write(key, new StoredRecord(encoded, RecordExpiryOf(obj)));
        return encoded;
    }

    /// <summary>Runs once on the engine's write path; <see cref="Result"/> is read after the engine's task completes.</summary>
    private sealed class MergeOperation(byte[] key, VersionedObject incoming, byte[]? incomingEncoded) : IStorageOperation
    {
        public byte[] Key => key;

        public VersionedObject? Result { get; private set; }

        /// <summary>The stored bytes before the write (null: absent); set only when the merge changed something.</summary>
        public byte[]? PreviousEncoded { get; private set; }

        /// <summary>The bytes written; null when the merge changed nothing (nothing was written).</summary>
        public byte[]? WrittenEncoded { get; private set; }

        public int TouchedKeyCount => 1;

        public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

        public void Execute(IStorageTransaction transaction)
        {
            PreviousEncoded = null;
            WrittenEncoded = null;
            if (!TryReadForWrite(transaction, key, incoming, out VersionedObject local, out byte[]? previous))
            {
                // A typed key created later stands here: the string loses on every replica.
                Result = VersionedObject.Empty;
                return;
            }

            VersionedObject merged = local.Merge(incoming);
            if (!merged.Equals(local))
            {
                PreviousEncoded = previous;
                if (incomingEncoded is not null && merged.Equals(incoming))
                {
                    transaction.Write(key, new StoredRecord(incomingEncoded, RecordExpiryOf(merged)));
                    WrittenEncoded = incomingEncoded;
                }
                else
                {
                    WrittenEncoded = Write(transaction, key, merged);
                }
            }

            Result = merged;
        }
    }

    /// <summary>Runs once on the engine's write path; its results are read after the engine's task completes.</summary>
    /// <summary>Runs once on the engine's write path; <see cref="RemovedEncoded"/> is read after the engine's task completes.</summary>
    private sealed class DeleteIfDigestOperation(byte[] key, ulong expectedKeyDigest, bool onlyTombstones) : IStorageOperation
    {
        /// <summary>The bytes removed; null when the key was absent or had changed (nothing was removed).</summary>
        public byte[]? RemovedEncoded { get; private set; }

        public int TouchedKeyCount => 1;

        public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

        public void Execute(IStorageTransaction transaction)
        {
            if (!transaction.TryRead(key, out StoredRecord record) || PartitionMerkleTree.KeyDigest(key, record.Value) != expectedKeyDigest)
            {
                return;
            }

            // The digest already names a tombstone-only object; the check guards against a caller's mistake deleting data.
            if (onlyTombstones && Decode(key, record.Value).HasLiveValue)
            {
                return;
            }

            transaction.Delete(key);
            RemovedEncoded = record.Value;
        }
    }

    /// <summary>Runs once on the engine's write path; <see cref="Result"/> is read after the engine's task completes.</summary>
    internal sealed class UpdateOperation(byte[] key, VersionVector? clientContext, NodeId actor, byte[]? value, long expiresAtUnixMs, byte[]? bitPatches)
        : IStorageOperation
    {
        public byte[] Key => key;

        public VersionedObject? Result { get; private set; }

        public byte[]? PreviousEncoded { get; private set; }

        /// <summary>The new object's bytes, stored here unless <see cref="Stored"/> is false.</summary>
        public byte[]? WrittenEncoded { get; private set; }

        /// <summary>False when a typed key created later stands here and the write lost to it (nothing was written).</summary>
        public bool Stored { get; private set; }

        public int TouchedKeyCount => 1;

        public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

        public void Execute(IStorageTransaction transaction)
        {
            // One read of the key: this is every coordinated string write's path.
            bool exists = transaction.TryRead(key, out StoredRecord stored);
            bool typed = exists && stored.IsTypedHeader;
            if (typed && TypedKeyRecord.TypeOf(stored.Value) == DataType.String && TypedKeyRecord.CountOf(stored.Value) > 0)
            {
                // A live counter: a blind string write would drop the increments it has not seen. The coordinator writes
                // the counter's register instead (ClusterKeyValueStore); nothing is written or sent here. (A deleted
                // counter's header is replaced like any typed key's.)
                throw new TypedKeyException($"Key {KeyText.Format(key)} holds a counter.");
            }

            byte[]? previous = exists && !typed ? stored.Value : null;
            VersionedObject local = previous is null ? VersionedObject.Empty : Decode(key, previous);
            VersionedObject updated = local.Update(clientContext ?? local.Context, actor, value, transaction.NowUnixMs, expiresAtUnixMs, bitPatches);
            PreviousEncoded = exists ? stored.Value : null;
            Result = updated;
            Stored = !typed || TryReadForWrite(transaction, key, updated, out _, out _);
            // A write that lost to a typed key created later (clocks apart) is still sent: each replica decides the same.
            WrittenEncoded = Stored ? Write(transaction, key, updated) : updated.Encode();
        }
    }
}
