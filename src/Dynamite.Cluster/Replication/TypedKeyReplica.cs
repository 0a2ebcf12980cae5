using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Storage;

namespace Dynamite.Cluster.Replication;

/// <summary>
/// A replica's typed keys (hashes, sets, counters; docs/DATA-TYPES.md): joins the deltas other nodes send
/// (<see cref="JoinAsync"/>) and coordinates this node's own commands (<see cref="CoordinateAsync"/>), each in one
/// storage operation through <see cref="TypedKeyJoin"/>. Anti-entropy does not carry typed keys yet (their whole-key
/// transfer is to come), so the listener (the Merkle trees) is told only when a join replaced a string: the string
/// left the trees. A typed key's header changes are not reported, and the trees' rebuild skips typed headers.
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

    /// <summary>What this replica stores of <paramref name="key"/>: its record and the elements <paramref name="selection"/> names.</summary>
    public ReplicaElements Read(byte[] key, ElementSelection selection)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(selection);
        if (!engine.TryRead(key, NowUnixMs, out StoredRecord record))
        {
            return ReplicaElements.Absent;
        }

        if (!record.IsTypedHeader)
        {
            return new ReplicaElements(StoredKeyKind.Plain, record.Value, [], false);
        }

        var elements = new List<KeyValuePair<byte[], ElementState>>();
        if (selection.Names is { } names)
        {
            foreach (byte[] name in names)
            {
                if (engine.TryReadElement(key, name, out byte[]? encoded))
                {
                    elements.Add(new(name, ElementState.Decode(encoded)));
                }
            }

            return new ReplicaElements(StoredKeyKind.Typed, record.Value, elements, false);
        }

        ElementPage page = engine.ScanElements(key, selection.After, selection.Limit);
        foreach (StoredElement element in page.Elements)
        {
            elements.Add(new(element.Name, ElementState.Decode(element.Value)));
        }

        return new ReplicaElements(StoredKeyKind.Typed, record.Value, elements, page.HasMore);
    }

    private async ValueTask ExecuteAsync(JoinOperation operation, CancellationToken ct)
    {
        await engine.ExecuteAsync(operation, NowUnixMs, ct);
        if (operation.ReplacedString is { } removed)
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

        /// <summary>The string record the join replaced by a typed key; null when none was.</summary>
        public byte[]? ReplacedString { get; private set; }

        public int TouchedKeyCount => 1;

        public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

        public void Execute(IStorageTransaction transaction)
        {
            // Retried operations (a group commit that failed) start over.
            Changed = false;
            ReplacedString = null;
            if (command is not null)
            {
                Delta = command.BuildDelta(transaction, actor);
            }

            if (Delta is null)
            {
                return;
            }

            bool hadString = transaction.TryRead(key, out StoredRecord before) && !before.IsTypedHeader;
            Changed = TypedKeyJoin.Apply(transaction, key, Delta);
            if (Changed && hadString && !(transaction.TryRead(key, out StoredRecord after) && !after.IsTypedHeader))
            {
                ReplacedString = before.Value;
            }

            command?.AfterJoin(transaction);
        }
    }
}
