using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Storage;

namespace Dynamite.Cluster.Replication;

/// <summary>
/// A replica's typed keys (hashes, sets, counters; docs/DATA-TYPES.md): joins the deltas other nodes send
/// (<see cref="JoinAsync"/>) and coordinates this node's own commands (<see cref="CoordinateAsync"/>), each in one
/// storage operation through <see cref="TypedKeyJoin"/>. The listener (anti-entropy trees) follows the key's header
/// record, which changes with every element change (its context or its count).
/// </summary>
public sealed class TypedKeyReplica(IStorageEngine engine, TimeProvider clock, IReplicaWriteListener? listener)
{
    private long NowUnixMs => clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Joins a change another node made to <paramref name="key"/> (a <see cref="Core.Peer.Messages.ReplicaDelta"/>, a hint); true when anything stored changed.</summary>
    public async ValueTask<bool> JoinAsync(byte[] key, KeyDelta delta, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(delta);
        var operation = new JoinOperation(key, delta, command: null, default);
        await ExecuteAsync(operation, ct);
        return operation.Changed;
    }

    /// <summary>
    /// Runs <paramref name="command"/> here as its coordinator: builds its delta from this replica's state with dots of
    /// <paramref name="actor"/> and joins it, in one storage operation. Returns the delta to send to the other replicas,
    /// or null when the command changed nothing.
    /// </summary>
    public async ValueTask<KeyDelta?> CoordinateAsync(IKeyDeltaOperation command, NodeId actor, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        var operation = new JoinOperation(command.Key, delta: null, command, actor);
        await ExecuteAsync(operation, ct);
        return operation.Delta;
    }

    private async ValueTask ExecuteAsync(JoinOperation operation, CancellationToken ct)
    {
        await engine.ExecuteAsync(operation, NowUnixMs, ct);
        if (operation.WrittenEncoded is { } written)
        {
            listener?.OnWritten(operation.Key, operation.PreviousEncoded, written);
        }
        else if (operation.PreviousEncoded is { } removed)
        {
            listener?.OnRemoved(operation.Key, removed);
        }
    }

    /// <summary>Joins a delta given, or built by a command, into the key; runs once on the engine's write path.</summary>
    private sealed class JoinOperation(byte[] key, KeyDelta? delta, IKeyDeltaOperation? command, NodeId actor) : IStorageOperation
    {
        public byte[] Key => key;

        /// <summary>The delta joined; null when a command changed nothing.</summary>
        public KeyDelta? Delta { get; private set; } = delta;

        public bool Changed { get; private set; }

        /// <summary>The key's record before the join (null: absent); set only when the join changed something.</summary>
        public byte[]? PreviousEncoded { get; private set; }

        /// <summary>The key's record after the join; null when nothing changed or the key is gone.</summary>
        public byte[]? WrittenEncoded { get; private set; }

        public int TouchedKeyCount => 1;

        public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

        public void Execute(IStorageTransaction transaction)
        {
            // Retried operations (a group commit that failed) start over.
            Changed = false;
            PreviousEncoded = WrittenEncoded = null;
            if (command is not null)
            {
                Delta = command.BuildDelta(transaction, actor);
            }

            if (Delta is null)
            {
                return;
            }

            byte[]? previous = transaction.TryRead(key, out StoredRecord before) ? before.Value : null;
            Changed = TypedKeyJoin.Apply(transaction, key, Delta);
            if (Changed)
            {
                PreviousEncoded = previous;
                WrittenEncoded = transaction.TryRead(key, out StoredRecord after) ? after.Value : null;
            }

            command?.AfterJoin(transaction);
        }
    }
}
