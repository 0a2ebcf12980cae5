using System.Collections.Concurrent;
using System.Text;
using Dynamite.Cluster.Metrics;
using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Core.Versioning;
using Dynamite.Storage;

namespace Dynamite.Cluster.Replication;

/// <summary>
/// Durable hints for the sloppy quorum (Dynamo §4.6): writes this node accepted as a fallback for a primary
/// that was unreachable, kept until they are replayed to it. Backed by an engine of its own (a separate
/// database), so hints never mix with, or count as, the keys this node owns.
/// <para>
/// Layout: engine key = UTF-8 node id, a separator (a node id never contains a control character), then the user
/// key. Separator 0x00: a string's hint, value = the encoded <see cref="VersionedObject"/>. Separator 0x01: a typed
/// key's hint, value = the encoded <see cref="KeyDelta"/>, every undelivered change to the key joined into one
/// (<see cref="KeyDelta.Join"/>). Hint records never carry an engine-level
/// expiry: the intended node drops expired siblings itself after the replay, and a record that vanished
/// behind this class's back would make <see cref="Count"/> wrong.
/// </para>
/// <para>
/// Threading: thread-safe. Each add and remove is one atomic engine operation; the per-node counts are a
/// cache rebuilt by one scan at construction and adjusted after each operation that created or deleted a
/// hint succeeded, so they are exact once concurrent calls have completed.
/// </para>
/// </summary>
public sealed class HintStore
{
    private const byte ObjectSeparator = 0;
    private const byte DeltaSeparator = 1;
    private const int ScanPageSize = 256;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly IStorageEngine _engine;
    private readonly TimeProvider _clock;

    // Invariant (between calls): _counts[n] = number of stored hints for n, entries > 0 only where present;
    // _count = their sum.
    private readonly ConcurrentDictionary<NodeId, long> _counts = new();
    private readonly ClusterMetrics? _metrics;
    private long _count;

    /// <summary>
    /// Opens the store over <paramref name="engine"/> and counts the hints already in it (one full scan). Damaged
    /// records are counted in <paramref name="metrics"/>' <see cref="ClusterMetrics.HintsUnreadable"/>, if given.
    /// </summary>
    public HintStore(IStorageEngine engine, TimeProvider clock, ClusterMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(clock);
        _engine = engine;
        _clock = clock;
        _metrics = metrics;
        foreach (byte[] hintKey in ScanAll())
        {
            // A damaged record must not stop the node from starting, nor replay to anyone else: it is left
            // where it is, counted, and skipped.
            if (TryParseHintKey(hintKey, out NodeId node, out _))
            {
                Adjust(node, 1);
            }
            else
            {
                metrics?.HintsUnreadableCounter.Add(1);
            }
        }
    }

    /// <summary>Hints stored for all nodes.</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>Raised after a hint for a key that had none was stored (counted in <see cref="Count"/> first), on the
    /// adding thread: the replay, asleep while there are no hints, wakes for it.</summary>
    public event Action? HintAdded;

    private long NowUnixMs => _clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Hints stored per intended node (nodes without hints are left out); a snapshot.</summary>
    public IReadOnlyDictionary<NodeId, long> CountsByNode()
    {
        var snapshot = new Dictionary<NodeId, long>();
        foreach (KeyValuePair<NodeId, long> pair in _counts)
        {
            if (pair.Value > 0)
            {
                snapshot[pair.Key] = pair.Value;
            }
        }

        return snapshot;
    }

    /// <summary>
    /// Stores <paramref name="obj"/> for <paramref name="intendedFor"/>, merged atomically with any hint already
    /// held for the same key (so two fallback writes for one key are both replayed). An empty object stores nothing.
    /// </summary>
    public async ValueTask AddAsync(NodeId intendedFor, byte[] key, VersionedObject obj, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(obj);
        var operation = new AddOperation(HintKey(intendedFor, key, ObjectSeparator), obj);
        await _engine.ExecuteAsync(operation, NowUnixMs, ct);
        if (operation.Created)
        {
            Adjust(intendedFor, 1);
            HintAdded?.Invoke();
        }
    }

    /// <summary>
    /// Stores a typed key's change for <paramref name="intendedFor"/>, joined atomically with the change already held
    /// for the same key (replaying the join is replaying both).
    /// </summary>
    public async ValueTask AddDeltaAsync(NodeId intendedFor, byte[] key, KeyDelta delta, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(delta);
        var operation = new AddDeltaOperation(HintKey(intendedFor, key, DeltaSeparator), delta);
        await _engine.ExecuteAsync(operation, NowUnixMs, ct);
        if (operation.Created)
        {
            Adjust(intendedFor, 1);
            HintAdded?.Invoke();
        }
    }

    /// <summary>
    /// Up to <paramref name="max"/> hints for <paramref name="intendedFor"/>, in the engine's hash order. Scans
    /// every hint (hints are few and short-lived; a per-node index is not worth its upkeep). A hint that does not
    /// decode throws <see cref="InvalidDataException"/> naming its key.
    /// </summary>
    public IReadOnlyList<Hint> Take(NodeId intendedFor, int max)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        byte[] objects = Prefix(intendedFor, ObjectSeparator);
        byte[] deltas = Prefix(intendedFor, DeltaSeparator);
        long now = NowUnixMs;
        var hints = new List<Hint>();
        foreach (byte[] hintKey in ScanAll())
        {
            bool isDelta = hintKey.AsSpan().StartsWith(deltas);
            if ((!isDelta && !hintKey.AsSpan().StartsWith(objects)) || !_engine.TryRead(hintKey, now, out StoredRecord record))
            {
                continue;
            }

            byte[] key = hintKey[objects.Length..];
            Hint hint;
            try
            {
                hint = isDelta
                    ? new Hint(intendedFor, key, VersionedObject.Empty) { Delta = DecodeDelta(hintKey, record.Value), EncodedDelta = record.Value }
                    : new Hint(intendedFor, key, ReplicaStore.Decode(hintKey, record.Value));
            }
            catch (InvalidDataException)
            {
                // One damaged hint must not block the others; it stays (for inspection) and is counted once per scan.
                _metrics?.HintsUnreadableCounter.Add(1);
                continue;
            }

            hints.Add(hint);
            if (hints.Count == max)
            {
                break;
            }
        }

        return hints;
    }

    /// <summary>
    /// Deletes the hint once replayed, atomically and only when the stored object still equals
    /// <paramref name="hint"/>'s: a newer write merged into the hint during the replay must survive to the next
    /// replay. Returns true when it deleted the hint.
    /// </summary>
    public async ValueTask<bool> RemoveIfUnchangedAsync(Hint hint, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(hint);
        IStorageOperation operation = hint.EncodedDelta is { } delta
            ? new RemoveDeltaOperation(HintKey(hint.IntendedFor, hint.Key, DeltaSeparator), delta)
            : new RemoveOperation(HintKey(hint.IntendedFor, hint.Key, ObjectSeparator), hint.Object);
        await _engine.ExecuteAsync(operation, NowUnixMs, ct);
        bool removed = operation is RemoveDeltaOperation { Removed: true } or RemoveOperation { Removed: true };
        if (removed)
        {
            Adjust(hint.IntendedFor, -1);
        }

        return removed;
    }

    private static byte[] Prefix(NodeId node, byte separator)
    {
        if (node.Value is null)
        {
            throw new ArgumentException("The node id must not be default.", nameof(node));
        }

        byte[] prefix = new byte[Encoding.UTF8.GetByteCount(node.Value) + 1];
        Encoding.UTF8.GetBytes(node.Value, prefix);
        prefix[^1] = separator;
        return prefix;
    }

    private static byte[] HintKey(NodeId node, byte[] key, byte separator)
    {
        byte[] prefix = Prefix(node, separator);
        byte[] hintKey = new byte[prefix.Length + key.Length];
        prefix.CopyTo(hintKey, 0);
        key.CopyTo(hintKey, prefix.Length);
        return hintKey;
    }

    private static bool TryParseHintKey(byte[] hintKey, out NodeId node, out byte[] key)
    {
        try
        {
            (node, key) = ParseHintKey(hintKey);
            return true;
        }
        catch (InvalidDataException)
        {
            node = default;
            key = [];
            return false;
        }
    }

    private static (NodeId Node, byte[] Key) ParseHintKey(byte[] hintKey)
    {
        int separator = hintKey.AsSpan().IndexOfAny(ObjectSeparator, DeltaSeparator);
        string? node = null;
        if (separator > 0)
        {
            try
            {
                node = StrictUtf8.GetString(hintKey, 0, separator);
            }
            catch (DecoderFallbackException)
            {
                node = null;
            }
        }

        if (!NodeId.TryCreate(node, out NodeId id))
        {
            throw new InvalidDataException($"The hint store holds key {KeyText.Format(hintKey)}, which does not start with a node id and a 0x00 or 0x01 separator.");
        }

        return (id, hintKey[(separator + 1)..]);
    }

    /// <summary>Every key in the engine, page by page; keys written during the scan may or may not appear.</summary>
    private IEnumerable<byte[]> ScanAll()
    {
        ulong? from = 0;
        while (from is ulong start)
        {
            ScanPage page = _engine.Scan(start, ScanPageSize, NowUnixMs);
            foreach (byte[] key in page.Keys)
            {
                yield return key;
            }

            from = page.NextHash;
        }
    }

    private void Adjust(NodeId node, long delta)
    {
        _counts.AddOrUpdate(node, delta, (_, count) => count + delta);
        Interlocked.Add(ref _count, delta);
    }

    /// <summary>Runs once on the engine's write path; <see cref="Created"/> is read after the engine's task completes.</summary>
    private sealed class AddOperation(byte[] hintKey, VersionedObject incoming) : IStorageOperation
    {
        public bool Created { get; private set; }

        public int TouchedKeyCount => 1;

        public byte[] GetTouchedKey(int index) => index == 0 ? hintKey : throw new ArgumentOutOfRangeException(nameof(index));

        public void Execute(IStorageTransaction transaction)
        {
            bool existed = transaction.TryRead(hintKey, out StoredRecord record);
            VersionedObject local = existed ? ReplicaStore.Decode(hintKey, record.Value) : VersionedObject.Empty;
            VersionedObject merged = local.Merge(incoming);
            if (!merged.Equals(local))
            {
                transaction.Write(hintKey, new StoredRecord(merged.Encode(), 0));
                Created = !existed;
            }
        }
    }

    private static KeyDelta DecodeDelta(byte[] hintKey, byte[] encoded)
    {
        try
        {
            return KeyDelta.Decode(encoded);
        }
        catch (FormatException exception)
        {
            throw new InvalidDataException($"The hint store's delta under {KeyText.Format(hintKey)} does not decode: {exception.Message}", exception);
        }
    }

    /// <summary>Runs once on the engine's write path; <see cref="Created"/> is read after the engine's task completes.</summary>
    private sealed class AddDeltaOperation(byte[] hintKey, KeyDelta incoming) : IStorageOperation
    {
        public bool Created { get; private set; }

        public int TouchedKeyCount => 1;

        public byte[] GetTouchedKey(int index) => index == 0 ? hintKey : throw new ArgumentOutOfRangeException(nameof(index));

        public void Execute(IStorageTransaction transaction)
        {
            bool existed = transaction.TryRead(hintKey, out StoredRecord record);
            KeyDelta joined = existed ? KeyDelta.Join(DecodeDelta(hintKey, record.Value), incoming) : incoming;
            transaction.Write(hintKey, new StoredRecord(joined.Encode(), 0));
            Created = !existed;
        }
    }

    /// <summary>Runs once on the engine's write path; removes the delta hint only when its bytes are still those replayed.</summary>
    private sealed class RemoveDeltaOperation(byte[] hintKey, byte[] replayed) : IStorageOperation
    {
        public bool Removed { get; private set; }

        public int TouchedKeyCount => 1;

        public byte[] GetTouchedKey(int index) => index == 0 ? hintKey : throw new ArgumentOutOfRangeException(nameof(index));

        public void Execute(IStorageTransaction transaction)
        {
            if (transaction.TryRead(hintKey, out StoredRecord record) && record.Value.AsSpan().SequenceEqual(replayed))
            {
                transaction.Delete(hintKey);
                Removed = true;
            }
        }
    }

    /// <summary>Runs once on the engine's write path; <see cref="Removed"/> is read after the engine's task completes.</summary>
    private sealed class RemoveOperation(byte[] hintKey, VersionedObject replayed) : IStorageOperation
    {
        public bool Removed { get; private set; }

        public int TouchedKeyCount => 1;

        public byte[] GetTouchedKey(int index) => index == 0 ? hintKey : throw new ArgumentOutOfRangeException(nameof(index));

        public void Execute(IStorageTransaction transaction)
        {
            if (transaction.TryRead(hintKey, out StoredRecord record)
                && ReplicaStore.Decode(hintKey, record.Value).Equals(replayed))
            {
                transaction.Delete(hintKey);
                Removed = true;
            }
        }
    }
}
