using System.Collections.Immutable;
using Dynamite.Core.Membership;
using Dynamite.Core.Quorum;
using Dynamite.Core.Ring;

namespace Dynamite.Core.Coordination;

/// <summary>
/// The state machine of one quorum write at its coordinating replica (Dynamo §4.5 and §4.6; Riak's
/// riak_kv_put_fsm), pure so that the simulation can run it. The coordinator applies the write to its own
/// copy first (which issues the write's dot atomically with that copy), sends the resulting object to
/// <see cref="ReplicaWrites"/>, and feeds acknowledgements and failures in:
/// <code>
///   local write (ack 1) --acks reach W / W impossible--> Answer --every replica write settled--> done
///        |                                                   |
///        +-- unreachable primary, no fallback: StoreHint ----+-- failed replica write: StoreHint(owner)
///        +-- coordinator is a fallback: StoreHint(LocalHintFor)
/// </code>
/// Every replica write that is not acknowledged turns into a hint for the node that should hold the copy
/// (the primary itself, or the primary a fallback stood in for): the coordinator keeps it durably and
/// replays it later, so no replica write is dropped, whatever W is. Not thread-safe.
/// <para>
/// One is made per client write, so it allocates only what it must: the replica writes are an exactly sized array
/// and the writes still pending a bit mask over it (a preference list holds at most N ≤ 16 entries).
/// </para>
/// </summary>
public sealed class PutRequest
{
    private readonly PutQuorum _quorum;
    private readonly PreferenceListEntry[] _replicaWrites;
    private readonly NodeId _self;

    /// <summary>Bit i set: the write to <see cref="_replicaWrites"/>[i] is neither acknowledged nor failed.</summary>
    private uint _pending;

    /// <param name="list">The key's preference list; <paramref name="self"/> must be in it (see <see cref="CanCoordinate"/>).</param>
    /// <param name="self">The coordinating replica.</param>
    /// <param name="w">Acknowledgements needed (the coordinator's own write counts), at least 1.</param>
    public PutRequest(PreferenceList list, NodeId self, int w)
    {
        ArgumentNullException.ThrowIfNull(list);
        if (!CanCoordinate(list, self))
        {
            throw new ArgumentException($"{self} is not in the preference list of partition {list.Partition}; forward the write to a replica", nameof(self));
        }

        _self = self;
        ImmutableArray<PreferenceListEntry> entries = list.Entries;
        if (entries.Length > 32)
        {
            throw new ArgumentException($"a preference list of {entries.Length} entries is longer than N can be", nameof(list));
        }

        // The coordinator is in the list exactly once (CanCoordinate), so every other entry is a replica write.
        _replicaWrites = new PreferenceListEntry[entries.Length - 1];
        int primaries = 0;
        int written = 0;
        foreach (PreferenceListEntry entry in entries)
        {
            primaries += entry.IsPrimary ? 1 : 0;
            if (entry.Node != self)
            {
                _replicaWrites[written++] = entry;
            }
        }

        _pending = _replicaWrites.Length == 32 ? uint.MaxValue : (1u << _replicaWrites.Length) - 1;
        List<NodeId>? coordinatorHints = null;
        foreach (NodeId unreachable in list.UnreachablePrimaries)
        {
            if (!HasFallbackFor(list, unreachable))
            {
                (coordinatorHints ??= []).Add(unreachable);
            }
        }

        HintsAtCoordinator = coordinatorHints ?? (IReadOnlyList<NodeId>)[];
        LocalHintFor = HintForEntryOf(list, self);
        W = w;
        _quorum = new PutQuorum(w, 0, list.Entries.Length, primaries);
        SelfIsPrimary = list.TryGetEntry(self, out PreferenceListEntry selfEntry) && selfEntry.IsPrimary;
    }

    /// <summary>The remote writes to send: a ReplicaPut to a primary, a HintedPut to a fallback (for its <see cref="PreferenceListEntry.HintFor"/>).</summary>
    public IReadOnlyList<PreferenceListEntry> ReplicaWrites => _replicaWrites;

    /// <summary>Primaries that are unreachable with no fallback free: the coordinator keeps their hint itself (not counted toward W).</summary>
    public IReadOnlyList<NodeId> HintsAtCoordinator { get; }

    /// <summary>
    /// When the coordinator is itself a fallback, the unreachable primary it stands in for: the coordinator must keep
    /// the written object as a hint for that primary too, as a fallback that received a HintedPut would. Its local
    /// write lands in its main store, which no read of this partition asks (a fallback's reply counts as not found,
    /// and once the primaries are back the fallback is not in the list at all) and no handoff replays; without the
    /// hint, the copy that counted toward W would be invisible, and the primary would get the write only by read repair.
    /// Null when the coordinator is a primary.
    /// </summary>
    public NodeId? LocalHintFor { get; }

    public int W { get; }

    public bool SelfIsPrimary { get; }

    public PutOutcome Outcome => _quorum.Outcome;

    public int Acknowledgements => _quorum.AckCount;

    /// <summary>True once every replica write was acknowledged or failed.</summary>
    public bool IsSettled => _pending == 0;

    /// <summary>Whether <paramref name="node"/> may coordinate a write of this partition (it is a primary or a fallback).</summary>
    public static bool CanCoordinate(PreferenceList list, NodeId node)
    {
        ArgumentNullException.ThrowIfNull(list);
        return list.Contains(node);
    }

    /// <summary>The node a copy sent to <paramref name="entry"/> is for: the primary itself, or the one a fallback stands in for.</summary>
    public static NodeId OwnerOf(PreferenceListEntry entry) => entry.IsPrimary || entry.HintFor is null ? entry.Node : entry.HintFor.Value;

    /// <summary>The coordinator's own write is applied. Returns Answer when that alone reaches W.</summary>
    public PutStep OnLocalWrite()
    {
        bool wasDone = _quorum.IsDone;
        _quorum.AddAck(_self, SelfIsPrimary);
        return !wasDone && _quorum.IsDone ? PutStep.Answer : PutStep.None;
    }

    /// <summary>A replica acknowledged its write.</summary>
    public PutStep OnAck(NodeId node)
    {
        if (!TrySettle(node, out PreferenceListEntry entry))
        {
            return PutStep.None;
        }

        bool wasDone = _quorum.IsDone;
        _quorum.AddAck(node, entry.IsPrimary);
        return !wasDone && _quorum.IsDone ? PutStep.Answer : PutStep.None;
    }

    /// <summary>
    /// A replica write failed or timed out: the coordinator must store a hint for <paramref name="hintOwner"/>,
    /// and answer if this made W impossible.
    /// </summary>
    public PutStep OnFailure(NodeId node, out NodeId hintOwner)
    {
        if (!TrySettle(node, out PreferenceListEntry entry))
        {
            hintOwner = default;
            return PutStep.None;
        }

        hintOwner = OwnerOf(entry);
        bool wasDone = _quorum.IsDone;
        _quorum.AddFailure(node, entry.IsPrimary);
        return PutStep.StoreHint | (!wasDone && _quorum.IsDone ? PutStep.Answer : PutStep.None);
    }

    /// <summary>Marks the write to <paramref name="node"/> settled; false if there is none or it was settled already.</summary>
    private bool TrySettle(NodeId node, out PreferenceListEntry entry)
    {
        for (int i = 0; i < _replicaWrites.Length; i++)
        {
            if (_replicaWrites[i].Node == node)
            {
                entry = _replicaWrites[i];
                uint bit = 1u << i;
                if ((_pending & bit) == 0)
                {
                    return false;
                }

                _pending &= ~bit;
                return true;
            }
        }

        entry = default;
        return false;
    }

    private static bool HasFallbackFor(PreferenceList list, NodeId primary)
    {
        foreach (PreferenceListEntry entry in list.Entries)
        {
            if (!entry.IsPrimary && entry.HintFor == primary)
            {
                return true;
            }
        }

        return false;
    }

    private static NodeId? HintForEntryOf(PreferenceList list, NodeId node)
    {
        foreach (PreferenceListEntry entry in list.Entries)
        {
            if (entry.Node == node)
            {
                return entry.IsPrimary ? null : entry.HintFor;
            }
        }

        return null;
    }
}
