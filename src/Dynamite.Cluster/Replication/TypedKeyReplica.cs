using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Storage;

namespace Dynamite.Cluster.Replication;

/// <summary>
/// A replica's typed keys (hashes, sets, counters; docs/DATA-TYPES.md): joins the deltas other nodes send
/// (<see cref="JoinAsync"/>) and coordinates this node's own commands (<see cref="CoordinateAsync"/>), each in one
/// storage operation through <see cref="TypedKeyJoin"/>, and reads a whole key for anti-entropy and handoff
/// (<see cref="ReadWholeKeyInPages"/>). The listener (the Merkle trees, whose digest of a typed key is its header's) is told
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
    /// This replica's whole typed key as the deltas that carry it in messages of at most <paramref name="maxPageBytes"/>
    /// of element data, read lazily: one <see cref="KeyDelta.WholeKey"/> when the key fits in one, else every element
    /// first (<see cref="KeyDelta.ElementsOnly"/> pages), then every element again with the header's context and an
    /// observed remove limited to each page's names (<see cref="KeyDelta.WholeKeyPage"/>). Both passes use the header
    /// read before either: its context covers only writes that were stored when the first pass read on, so a receiver
    /// that joined the first pass holds every element the second one's context says it has seen. The receiver must
    /// join them in order, and the sender stop at the first that fails: a second-pass page joined without the first
    /// pass would mark elements it has not received as seen and removed. Nothing when no typed key is stored.
    /// </summary>
    public IEnumerable<KeyDelta> ReadWholeKeyInPages(byte[] key, int maxPageBytes)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPageBytes, 1);
        if (!TryReadHeader(key, out KeyHeader? header))
        {
            yield break;
        }

        List<KeyValuePair<byte[], ElementState>> first = ReadPage(key, null, maxPageBytes, out byte[]? resume);
        if (resume is null)
        {
            yield return KeyDelta.WholeKey(header, first);
            yield break;
        }

        yield return KeyDelta.ElementsOnly(header, first);
        for (byte[]? after = resume; after is not null;)
        {
            yield return KeyDelta.ElementsOnly(header, ReadPage(key, after, maxPageBytes, out after));
        }

        byte[]? previous = null;
        byte[]? next = null;
        do
        {
            List<KeyValuePair<byte[], ElementState>> page = ReadPage(key, next, maxPageBytes, out next);
            byte[]? through = next is null ? null : page[^1].Key;
            yield return KeyDelta.WholeKeyPage(header, page, new ElementRange(previous, through));
            previous = through;
        }
        while (next is not null);
    }

    private bool TryReadHeader(byte[] key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out KeyHeader? header)
    {
        header = engine.TryRead(key, NowUnixMs, out StoredRecord record) && record.IsTypedHeader ? TypedKeyRecord.Decode(record.Value).Header : null;
        return header is not null;
    }

    /// <summary>
    /// The elements after <paramref name="after"/> until their names and states reach <paramref name="maxBytes"/> (at
    /// least one) or <see cref="ElementSelection.MaxElements"/>; <paramref name="resume"/> is where the next page starts,
    /// null at the key's end.
    /// </summary>
    private List<KeyValuePair<byte[], ElementState>> ReadPage(byte[] key, byte[]? after, int maxBytes, out byte[]? resume)
    {
        var elements = new List<KeyValuePair<byte[], ElementState>>();
        long bytes = 0;
        resume = after;
        while (true)
        {
            ElementPage page = engine.ScanElements(key, resume, ElementSelection.MaxElements - elements.Count);
            foreach (StoredElement element in page.Elements)
            {
                elements.Add(new(element.Name, ElementState.Decode(element.Value)));
                bytes += element.Name.Length + element.Value.Length;
                resume = element.Name;
                if (bytes >= maxBytes || elements.Count >= ElementSelection.MaxElements)
                {
                    // Where the page was cut: more may follow (the next read finds out).
                    return elements;
                }
            }

            if (!page.HasMore || page.Elements.Count == 0)
            {
                resume = null;
                return elements;
            }
        }
    }

    /// <summary>What this replica stores of <paramref name="key"/>: its record and the elements <paramref name="selection"/> names.</summary>
    public ReplicaElements Read(byte[] key, ElementSelection selection)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(selection);
        return Read(new EngineReads(engine, NowUnixMs), key, selection);
    }

    /// <summary>As <see cref="Read(byte[], ElementSelection)"/>, as an operation over a transaction's view (a staged transaction's reads of its own writes).</summary>
    internal static ReadOperation ReadOf(byte[] key, ElementSelection selection) => new(key, selection);

    private static ReplicaElements Read<TReads>(TReads reads, byte[] key, ElementSelection selection)
        where TReads : struct, IKeyReads
    {
        if (!reads.TryRead(key, out StoredRecord record))
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
                if (reads.TryReadElement(key, name, out byte[]? encoded))
                {
                    elements.Add(new(name, ElementState.Decode(encoded)));
                }
            }

            return new ReplicaElements(StoredKeyKind.Typed, record.Value, elements, false);
        }

        if (selection.IsIndexWindow)
        {
            // The members a page of the score index names, in its order, each with its element's state.
            ElementPage entries = reads.ScanIndex(key, selection.After, selection.Limit, selection.Backward);
            foreach (StoredElement entry in entries.Elements)
            {
                byte[] member = ScoreIndex.MemberOfEntry(entry.Name).ToArray();
                if (reads.TryReadElement(key, member, out byte[]? encoded))
                {
                    elements.Add(new(member, ElementState.Decode(encoded)));
                }
            }

            return new ReplicaElements(StoredKeyKind.Typed, record.Value, elements, entries.HasMore);
        }

        ElementPage page = reads.ScanElements(key, selection.After, selection.Limit);
        foreach (StoredElement element in page.Elements)
        {
            elements.Add(new(element.Name, ElementState.Decode(element.Value)));
        }

        return new ReplicaElements(StoredKeyKind.Typed, record.Value, elements, page.HasMore);
    }

    /// <summary>What a replica read needs of a key's state: the engine's committed state, or a transaction's view of it.</summary>
    private interface IKeyReads
    {
        bool TryRead(ReadOnlySpan<byte> key, out StoredRecord record);

        bool TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out byte[] value);

        ElementPage ScanElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit);

        ElementPage ScanIndex(ReadOnlySpan<byte> key, byte[]? bound, int limit, bool backward);
    }

    private readonly struct EngineReads(IStorageEngine engine, long nowUnixMs) : IKeyReads
    {
        public bool TryRead(ReadOnlySpan<byte> key, out StoredRecord record) => engine.TryRead(key, nowUnixMs, out record);

        public bool TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out byte[] value) =>
            engine.TryReadElement(key, element, out value);

        public ElementPage ScanElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit) => engine.ScanElements(key, afterElement, limit);

        public ElementPage ScanIndex(ReadOnlySpan<byte> key, byte[]? bound, int limit, bool backward) => engine.ScanIndex(key, bound, limit, backward);
    }

    private readonly struct TransactionReads(IStorageTransaction transaction) : IKeyReads
    {
        public bool TryRead(ReadOnlySpan<byte> key, out StoredRecord record) => transaction.TryRead(key, out record);

        public bool TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out byte[] value) =>
            transaction.TryReadElement(key, element, out value);

        public ElementPage ScanElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit) => transaction.ScanElements(key, afterElement, limit);

        public ElementPage ScanIndex(ReadOnlySpan<byte> key, byte[]? bound, int limit, bool backward) =>
            !transaction.KeepsIndex ? new ElementPage([], false)
            : backward ? transaction.ScanIndexBackward(key, bound, limit)
            : transaction.ScanIndex(key, bound, limit);
    }

    /// <summary>A replica read run as a storage operation (it writes nothing); <see cref="Result"/> is read after it ran.</summary>
    internal sealed class ReadOperation(byte[] key, ElementSelection selection) : IStorageOperation
    {
        public ReplicaElements? Result { get; private set; }

        public int TouchedKeyCount => 1;

        public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

        public void Execute(IStorageTransaction transaction) => Result = Read(new TransactionReads(transaction), key, selection);
    }

    /// <summary>
    /// <paramref name="command"/> run with this replica as its coordinator, as an operation to run in a larger one (a
    /// transaction's stage): <see cref="JoinOperation.Delta"/> is then the change it made, to join and to send.
    /// </summary>
    internal static JoinOperation CoordinationOf(IKeyDeltaOperation command, NodeId actor) => new(command.Key, delta: null, command, actor);

    /// <summary>
    /// A join of <paramref name="delta"/> into <paramref name="key"/> to run inside a larger storage operation (a replica
    /// batch); once that committed, <see cref="OnJoined"/> tells the listener what it changed.
    /// </summary>
    internal IStorageOperation JoinOf(byte[] key, KeyDelta delta) => new JoinOperation(key, delta, command: null, default);

    /// <summary>After the storage operation holding <paramref name="join"/> (from <see cref="JoinOf"/>) committed.</summary>
    internal void OnJoined(IStorageOperation join)
    {
        var operation = (JoinOperation)join;
        if (operation.Changed)
        {
            listener?.OnTypedKeyWritten(operation.Key, operation.PreviousRecord, operation.WrittenRecord);
        }
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
    internal sealed class JoinOperation(byte[] key, KeyDelta? delta, IKeyDeltaOperation? command, NodeId actor) : IStorageOperation
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
