using Dynamite.Core.AntiEntropy;
using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Versioning;
using Dynamite.Storage;

namespace Dynamite.Cluster.Replication;

/// <summary>
/// A transaction coordinated by a primary of its partition (EXEC or a script on a cluster node). Each write runs on this
/// replica's engine as a coordinated write runs (a string's update with this node's next dot, a typed command's delta built
/// from this replica's state), but its changes land in a <see cref="TransactionStage"/> instead of the engine, and this
/// replica's reads through the transaction see them. <see cref="CommitHereAsync"/> writes the whole stage in one storage
/// operation; <see cref="Changes"/> is then what the other replicas get, in order, in one
/// <see cref="Core.Peer.Messages.ReplicaBatch"/>, which they apply in one storage operation too: all of the transaction or
/// none of it on each replica. Nobody else sees a staged change before the commit (no read repair carries it, and the
/// listener hears of it only once it is stored). A transaction's commands run one after another, and so do their staged
/// writes (the store awaits each before the next); the change list is locked all the same, so that writes started
/// together could not lose each other's changes.
/// </summary>
public sealed class ReplicaTransaction
{
    private readonly ReplicaStore _store;
    private readonly NodeId _actor;
    private readonly TransactionStage _stage = new();

    /// <summary>The changes to send, in the order they were made: each string key's latest object, each delta.</summary>
    private readonly List<ReplicaChange> _changes = [];

    /// <summary>Per key, the index in <see cref="_changes"/> of its latest change.</summary>
    private readonly Dictionary<byte[], int> _latestChangeOf = new(ByteArrayComparer.Instance);

    internal ReplicaTransaction(ReplicaStore store, PartitionId partition, NodeId actor)
    {
        _store = store;
        Partition = partition;
        _actor = actor;
    }

    /// <summary>The partition every key of the transaction belongs to.</summary>
    public PartitionId Partition { get; }

    /// <summary>True while nothing is staged.</summary>
    public bool IsEmpty => _stage.IsEmpty && _changes.Count == 0;

    /// <summary>The record and element changes staged (<see cref="TransactionStage.ChangeCount"/>).</summary>
    public int StagedChangeCount => _stage.ChangeCount;

    /// <summary>What the other replicas get once this replica committed: each string key's latest object and every delta, in order.</summary>
    public IReadOnlyList<ReplicaChange> Changes => _changes;

    /// <summary>
    /// This replica's object of <paramref name="key"/> as the transaction sees it, with its version digest; null when
    /// absent. Throws <see cref="TypedKeyException"/> where a typed key stands, as <see cref="ReplicaStore.Read(ReadOnlySpan{byte}, out ulong)"/> does.
    /// </summary>
    public VersionedObject? Read(ReadOnlySpan<byte> key, out ulong versionDigest)
    {
        switch (_stage.TryReadStaged(key, _store.NowUnixMs, out StoredRecord record))
        {
            case null:
                return _store.Read(key, out versionDigest);
            case false:
                versionDigest = 0;
                return null;
            default:
                byte[] encoded = ReplicaStore.Plain(key, record).Value;
                versionDigest = PartitionMerkleTree.VersionDigest(encoded);
                return ReplicaStore.Decode(key, encoded);
        }
    }

    /// <summary>What this replica holds of <paramref name="key"/> as the transaction sees it (<see cref="TypedKeyReplica.Read"/>).</summary>
    public async ValueTask<ReplicaElements> ReadElementsAsync(byte[] key, ElementSelection selection, CancellationToken cancellationToken = default)
    {
        if (_stage.IsEmpty)
        {
            return _store.TypedKeys.Read(key, selection);
        }

        // Run on the engine's writer, as every staged operation: the stage's element changes overlay the engine's there.
        TypedKeyReplica.ReadOperation read = TypedKeyReplica.ReadOf(key, selection);
        await _store.Engine.ExecuteAsync(_stage.Staging(read), _store.NowUnixMs, cancellationToken);
        return read.Result!;
    }

    /// <summary>A string key's coordinated write (<see cref="ReplicaStore.UpdateEncodedAsync"/>), staged; returns the object written.</summary>
    public async ValueTask<VersionedObject> UpdateAsync(ReplicaUpdate update, CancellationToken cancellationToken = default)
    {
        ReplicaStore.UpdateOperation operation = ReplicaStore.UpdateOf(update, _actor);
        await _store.Engine.ExecuteAsync(_stage.Staging(operation), _store.WriteStampUnixMs, cancellationToken);
        Add(operation);
        return operation.Result!;
    }

    /// <summary>Several string keys' coordinated writes in one staged operation (MSET inside the transaction).</summary>
    public async ValueTask UpdateBatchAsync(IReadOnlyList<ReplicaUpdate> updates, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updates);
        var operations = new ReplicaStore.UpdateOperation[updates.Count];
        for (int i = 0; i < operations.Length; i++)
        {
            operations[i] = ReplicaStore.UpdateOf(updates[i], _actor);
        }

        await _store.Engine.ExecuteAsync(_stage.Staging(new ReplicaBatchOperation(operations)), _store.WriteStampUnixMs, cancellationToken);
        foreach (ReplicaStore.UpdateOperation operation in operations)
        {
            Add(operation);
        }
    }

    /// <summary>A typed command coordinated here (<see cref="TypedKeyReplica.CoordinateAsync"/>), staged; returns its delta, null when it changed nothing.</summary>
    public async ValueTask<KeyDelta?> CoordinateAsync(IKeyDeltaOperation command, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        TypedKeyReplica.JoinOperation operation = TypedKeyReplica.CoordinationOf(command, _actor);
        await _store.Engine.ExecuteAsync(_stage.Staging(operation), _store.NowUnixMs, cancellationToken);
        if (operation.Delta is not { } delta)
        {
            return null;
        }

        lock (_changes)
        {
            _latestChangeOf[command.Key] = _changes.Count;
            _changes.Add(ReplicaChange.Join(command.Key, delta));
        }

        return delta;
    }

    /// <summary>
    /// Stores the transaction on this replica in one storage operation, as every other replica stores it: its
    /// <see cref="Changes"/> merged and joined into what is stored now (<see cref="ReplicaStore.ApplyBatchAsync"/>), not the
    /// stage written over it, so a replica write from another coordinator that landed since a change was staged (which the
    /// isolation gate does not hold off) stays, a sibling or a joined change, instead of being overwritten. With none, the
    /// result is exactly what was staged. The listener hears of every change. <see cref="Changes"/> stays, for the other
    /// replicas, until <see cref="Clear"/>. Not cancellable: a commit the engine may have made must not be reported as not made.
    /// </summary>
    public ValueTask CommitHereAsync() => _changes.Count == 0 ? ValueTask.CompletedTask : _store.ApplyBatchAsync(_changes, CancellationToken.None);

    /// <summary>Forgets everything staged (after a commit, or when the transaction is given up).</summary>
    public void Clear()
    {
        _stage.Clear();
        _changes.Clear();
        _latestChangeOf.Clear();
    }

    private void Add(ReplicaStore.UpdateOperation operation)
    {
        var change = ReplicaChange.Merge(operation.Key, operation.Result!, operation.WrittenEncoded);
        lock (_changes)
        {
            if (_latestChangeOf.TryGetValue(operation.Key, out int latest) && _changes[latest].Delta is null)
            {
                // The key's latest change is an object this one descends from (written over it here): it takes its place, so
                // a replica merges the key's final object once. Nothing of this key follows that place.
                _changes[latest] = change;
                return;
            }

            _latestChangeOf[operation.Key] = _changes.Count;
            _changes.Add(change);
        }
    }
}
