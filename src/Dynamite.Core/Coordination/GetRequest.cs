using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Dynamite.Core.Membership;
using Dynamite.Core.Quorum;
using Dynamite.Core.Ring;
using Dynamite.Core.Versioning;

namespace Dynamite.Core.Coordination;

/// <summary>
/// The state machine of one quorum read (Dynamo §4.5; Riak's riak_kv_get_fsm), pure so that the
/// simulation can run it over a simulated network. The coordinator asks every one of <see cref="Targets"/>,
/// feeds each reply or failure in, and does what each call returns: ask <see cref="NextTarget"/> in place of
/// a failed one, answer the client once the <see cref="GetQuorum"/> decided, and once every asked target
/// answered (or failed), repair the primaries whose copy is older than the merge of all replies (read repair).
/// With <see cref="ReadFanout.All"/> the targets are the whole preference list; with
/// <see cref="ReadFanout.Quorum"/> only R of them, and the others stand by for failures.
/// <code>
///   AwaitingQuorum --R replies / impossible--> Answered --all targets in--> Complete (repair targets known)
/// </code>
/// A fallback holds the key only as a hint, never in its main store, so its reply counts toward R as
/// "not found" and it is never a repair target. Not thread-safe: the coordinator serializes calls.
/// <para>
/// One is made per client read, so its bookkeeping is two bit masks over the list's entries (at most N ≤ 16 of them):
/// which were asked, and which of those have not answered yet. The stand-bys are the entries not asked, in list order.
/// </para>
/// </summary>
public sealed class GetRequest
{
    private readonly GetQuorum _quorum;
    private readonly ImmutableArray<PreferenceListEntry> _entries;
    private readonly bool _readRepair;

    /// <summary>Whether a failure brings in a stand-by (<see cref="ReadFanout.Quorum"/>).</summary>
    private readonly bool _hasStandby;

    /// <summary>Bit i: <see cref="_entries"/>[i] was asked.</summary>
    private uint _asked;

    /// <summary>Bit i: <see cref="_entries"/>[i] was asked and has neither answered nor failed.</summary>
    private uint _pending;

    /// <summary>The primaries' replies, for read repair; made on the first.</summary>
    private List<(NodeId Node, VersionedObject? Reply)>? _primaryReplies;

    /// <summary>Asks every target (<see cref="ReadFanout.All"/>).</summary>
    /// <param name="list">The key's preference list (reachable primaries, then fallbacks).</param>
    /// <param name="n">N for this datacenter (at least 1).</param>
    /// <param name="r">Replies needed, 1..n.</param>
    /// <param name="requireAgreement">The R replies must be equal (DC_SAFE_QUORUM).</param>
    /// <param name="readRepair">Whether stale primaries are repaired once every target answered.</param>
    public GetRequest(PreferenceList list, int n, int r, bool requireAgreement, bool readRepair)
        : this(list, n, r, requireAgreement, readRepair, ReadFanout.All, preferred: null)
    {
    }

    /// <param name="list">The key's preference list (reachable primaries, then fallbacks).</param>
    /// <param name="n">N for this datacenter (at least 1).</param>
    /// <param name="r">Replies needed, 1..n.</param>
    /// <param name="requireAgreement">The R replies must be equal (DC_SAFE_QUORUM).</param>
    /// <param name="readRepair">Whether stale primaries are repaired once every target answered.</param>
    /// <param name="fanout">
    /// Which targets to ask up front. A read that needs agreement asks every target whatever this says: when the
    /// R first replies disagree, the others may still agree.
    /// </param>
    /// <param name="preferred">With <see cref="ReadFanout.Quorum"/>, a node asked first when it is a primary in the list (the coordinator).</param>
    public GetRequest(PreferenceList list, int n, int r, bool requireAgreement, bool readRepair, ReadFanout fanout, NodeId? preferred)
    {
        ArgumentNullException.ThrowIfNull(list);
        _entries = list.Entries;
        if (_entries.Length > 32)
        {
            throw new ArgumentException($"a preference list of {_entries.Length} entries is longer than N can be", nameof(list));
        }

        int quorum = Math.Min(r, n);
        int primaries = 0;
        foreach (PreferenceListEntry entry in list.Entries)
        {
            primaries += entry.IsPrimary ? 1 : 0;
        }

        if (fanout == ReadFanout.All || requireAgreement || list.Entries.Length <= quorum)
        {
            Targets = list.Entries;
            _asked = _entries.Length == 32 ? uint.MaxValue : (1u << _entries.Length) - 1;
        }
        else
        {
            // The preferred node first (its copy costs no round trip), then the list in order: primaries before fallbacks.
            _hasStandby = true;
            var asked = new PreferenceListEntry[quorum];
            int count = 0;
            for (int i = 0; i < _entries.Length && count < quorum; i++)
            {
                if (IsPreferred(_entries[i], preferred))
                {
                    asked[count++] = _entries[i];
                    _asked |= 1u << i;
                }
            }

            for (int i = 0; i < _entries.Length && count < quorum; i++)
            {
                if ((_asked & (1u << i)) == 0)
                {
                    asked[count++] = _entries[i];
                    _asked |= 1u << i;
                }
            }

            Targets = ImmutableCollectionsMarshal.AsImmutableArray(asked);
        }

        _pending = _asked;

        _quorum = new GetQuorum(n, quorum, 0, list.Entries.Length, requireAgreement, primaries);
        _readRepair = readRepair;
        R = quorum;
        N = n;
        Phase = _quorum.IsDone ? (Targets.IsEmpty ? GetPhase.Complete : GetPhase.Answered) : GetPhase.AwaitingQuorum;
    }

    /// <summary>A fallback's copy is a hint, which a read cannot see; only a primary is worth asking first.</summary>
    private static bool IsPreferred(PreferenceListEntry entry, NodeId? preferred) => entry.IsPrimary && entry.Node == preferred;

    /// <summary>The replicas to ask at once, in preference order.</summary>
    public ImmutableArray<PreferenceListEntry> Targets { get; }

    /// <summary>The replica to ask in place of a failed one, when a call returned <see cref="GetStep.Ask"/>.</summary>
    public PreferenceListEntry? NextTarget { get; private set; }

    public int N { get; }

    public int R { get; }

    public GetPhase Phase { get; private set; }

    /// <summary>The decision; <see cref="GetOutcome.Pending"/> until the quorum is reached or impossible.</summary>
    public GetOutcome Outcome => _quorum.Outcome;

    /// <summary>The merge of every reply so far (what the client gets, and what repairs carry).</summary>
    public VersionedObject Merged => _quorum.Merged;

    /// <summary>How many targets replied (not-found included).</summary>
    public int Replies => _quorum.Replies.Count;

    /// <summary>Primaries to send <see cref="Merged"/> to; known once <see cref="Phase"/> is Complete.</summary>
    public IReadOnlyList<NodeId> RepairTargets { get; private set; } = [];

    /// <summary>Records a replica's reply (null: it does not have the key). Returns what to do now.</summary>
    public GetStep OnReply(NodeId node, VersionedObject? reply)
    {
        if (!TrySettle(node, out bool isPrimary))
        {
            return GetStep.None;
        }

        if (isPrimary)
        {
            (_primaryReplies ??= new(_entries.Length)).Add((node, reply));
        }

        _quorum.Add(node, isPrimary, isPrimary ? reply : null);
        return Advance();
    }

    /// <summary>Records a failed or timed-out request to a replica. Returns what to do now.</summary>
    public GetStep OnFailure(NodeId node)
    {
        if (!TrySettle(node, out bool isPrimary))
        {
            return GetStep.None;
        }

        _quorum.AddFailure(node, isPrimary);
        GetStep step = GetStep.None;
        NextTarget = null;
        if (Phase == GetPhase.AwaitingQuorum && TryAskStandby(out PreferenceListEntry next))
        {
            // The quorum counted every target of the list as a possible reply, so each failure must bring in a stand-by.
            NextTarget = next;
            step = GetStep.Ask;
        }

        return step | Advance();
    }

    /// <summary>
    /// A target has not answered for longer than replicas usually take (it may be paused, or its link lossy):
    /// returns <see cref="GetStep.Ask"/> with a stand-by in <see cref="NextTarget"/> while the quorum is still
    /// pending (Cassandra's speculative retry). The slow target stays pending; whichever answers counts.
    /// </summary>
    public GetStep OnSlow(NodeId node)
    {
        NextTarget = null;
        if (Phase != GetPhase.AwaitingQuorum || !IsPending(node) || !TryAskStandby(out PreferenceListEntry next))
        {
            return GetStep.None;
        }

        NextTarget = next;
        return GetStep.Ask;
    }

    private int IndexOf(NodeId node)
    {
        for (int i = 0; i < _entries.Length; i++)
        {
            if (_entries[i].Node == node)
            {
                return i;
            }
        }

        return -1;
    }

    private bool IsPending(NodeId node)
    {
        int index = IndexOf(node);
        return index >= 0 && (_pending & (1u << index)) != 0;
    }

    /// <summary>Marks a pending target answered or failed; false if <paramref name="node"/> is not one.</summary>
    private bool TrySettle(NodeId node, out bool isPrimary)
    {
        int index = IndexOf(node);
        if (index < 0 || (_pending & (1u << index)) == 0)
        {
            isPrimary = false;
            return false;
        }

        _pending &= ~(1u << index);
        isPrimary = _entries[index].IsPrimary;
        return true;
    }

    /// <summary>Asks the first entry, in list order, not asked yet; false when there is none.</summary>
    private bool TryAskStandby(out PreferenceListEntry next)
    {
        if (_hasStandby)
        {
            for (int i = 0; i < _entries.Length; i++)
            {
                uint bit = 1u << i;
                if ((_asked & bit) == 0)
                {
                    _asked |= bit;
                    _pending |= bit;
                    next = _entries[i];
                    return true;
                }
            }
        }

        next = default;
        return false;
    }

    private GetStep Advance()
    {
        GetStep step = GetStep.None;
        if (Phase == GetPhase.AwaitingQuorum && _quorum.IsDone)
        {
            Phase = GetPhase.Answered;
            step |= GetStep.Answer;
        }

        if (Phase == GetPhase.Answered && _pending == 0)
        {
            Phase = GetPhase.Complete;
            if (_readRepair && !Merged.IsEmpty)
            {
                RepairTargets = ReadRepairPlan.StaleReplicas(Merged, _primaryReplies ?? []);
                if (RepairTargets.Count > 0)
                {
                    step |= GetStep.Repair;
                }
            }
        }

        return step;
    }
}
