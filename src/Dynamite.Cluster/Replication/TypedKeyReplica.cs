using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Storage;

namespace Dynamite.Cluster.Replication;

/// <summary>
/// A replica's typed keys (hashes, sets, counters; docs/DATA-TYPES.md): joins the deltas other nodes send
/// (<see cref="JoinAsync"/>) and coordinates this node's own commands (<see cref="CoordinateAsync"/>), each in one
/// storage operation through <see cref="TypedKeyJoin"/>, and reads a whole key for anti-entropy and handoff
/// (<see cref="ReadWholeKey"/>). The listener (the Merkle trees, whose digest of a typed key is its header's) is told
/// of every record a join changed: a typed key's header, or the string it replaced.
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

    /// <summary>
    /// This replica's whole typed key as one delta (<see cref="KeyDelta.WholeKey"/>): the header read first, then the
    /// elements in pages. A join between the two reads only adds writes the header's context does not cover, or removes
    /// writes it does, so what is sent is always a state the key went through or a join of two. Null when no typed key
    /// is stored (absent, expired, a string), or when it has more than <see cref="KeyDelta.MaxElements"/> elements.
    /// </summary>
    public KeyDelta? ReadWholeKey(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!engine.TryRead(key, NowUnixMs, out StoredRecord record) || !record.IsTypedHeader)
        {
            return null;
        }

        KeyHeader header = TypedKeyRecord.Decode(record.Value).Header;
        var elements = new List<KeyValuePair<byte[], ElementState>>();
        byte[]? after = null;
        ElementPage page;
        do
        {
            page = engine.ScanElements(key, after, ElementSelection.MaxElements);
            foreach (StoredElement element in page.Elements)
            {
                elements.Add(new(element.Name, ElementState.Decode(element.Value)));
            }

            after = page.ResumeAfter;
        }
        while (page.HasMore && elements.Count <= KeyDelta.MaxElements);

        return elements.Count <= KeyDelta.MaxElements ? KeyDelta.WholeKey(header, elements) : null;
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
        if (operation.Changed)
        {
            listener?.OnTypedKeyWritten(operation.Key, operation.PreviousRecord, operation.WrittenRecord);
        }
    }

    /// <summary>Joins a delta given, or built by a command, into the key; runs once on the engine's write path.</summary>
    private sealed class JoinOperation(byte[] key, KeyDelta? delta, IKeyDeltaOperation? command, NodeId actor) : IStorageOperation
    {
        public byte[] Key => key;

        /// <summary>The delta joined; null when a command changed nothing.</summary>
        public KeyDelta? Delta { get; private set; } = delta;

        public bool Changed { get; private set; }

        /// <summary>The record stored before the join (a typed key's header, or a string it replaced); null when none was.</summary>
        public byte[]? PreviousRecord { get; private set; }

        /// <summary>The record stored after the join; null when none is.</summary>
        public byte[]? WrittenRecord { get; private set; }

        public int TouchedKeyCount => 1;

        public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

        public void Execute(IStorageTransaction transaction)
        {
            // Retried operations (a group commit that failed) start over.
            Changed = false;
            PreviousRecord = null;
            WrittenRecord = null;
            if (command is not null)
            {
                Delta = command.BuildDelta(transaction, actor);
            }

            if (Delta is null)
            {
                return;
            }

            PreviousRecord = transaction.TryRead(key, out StoredRecord before) ? before.Value : null;
            Changed = TypedKeyJoin.Apply(transaction, key, Delta);
            WrittenRecord = Changed && transaction.TryRead(key, out StoredRecord after) ? after.Value : null;

            command?.AfterJoin(transaction);
        }
    }
}
