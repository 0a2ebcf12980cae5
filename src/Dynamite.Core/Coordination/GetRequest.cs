using System.Collections.Immutable;
using Dynamite.Core.Membership;
using Dynamite.Core.Quorum;
using Dynamite.Core.Ring;
using Dynamite.Core.Versioning;

namespace Dynamite.Core.Coordination;

/// <summary>
/// The state machine of one quorum read (Dynamo §4.5; Riak's riak_kv_get_fsm), pure so that the
/// simulation can run it over a simulated network. The coordinator asks every target of the preference
/// list, feeds each reply or failure in, and does what each call returns: answer the client once the
/// <see cref="GetQuorum"/> decided, and once every target answered (or failed), repair the primaries
/// whose copy is older than the merge of all replies (read repair).
/// <code>
///   AwaitingQuorum --R replies / impossible--> Answered --all targets in--> Complete (repair targets known)
/// </code>
/// A fallback holds the key only as a hint, never in its main store, so its reply counts toward R as
/// "not found" and it is never a repair target. Not thread-safe: the coordinator serializes calls.
/// </summary>
public sealed class GetRequest
{
    private readonly GetQuorum _quorum;
    private readonly Dictionary<NodeId, bool> _pending = [];
    private readonly List<(NodeId Node, VersionedObject? Reply)> _primaryReplies = [];
    private readonly bool _readRepair;

    /// <param name="list">The key's preference list (reachable primaries, then fallbacks).</param>
    /// <param name="n">N for this datacenter (at least 1).</param>
    /// <param name="r">Replies needed, 1..n.</param>
    /// <param name="requireAgreement">The R replies must be equal (DC_SAFE_QUORUM).</param>
    /// <param name="readRepair">Whether stale primaries are repaired once every target answered.</param>
    public GetRequest(PreferenceList list, int n, int r, bool requireAgreement, bool readRepair)
    {
        ArgumentNullException.ThrowIfNull(list);
        Targets = list.Entries;
        int primaries = 0;
        foreach (PreferenceListEntry entry in list.Entries)
        {
            _pending[entry.Node] = entry.IsPrimary;
            primaries += entry.IsPrimary ? 1 : 0;
        }

        _quorum = new GetQuorum(n, Math.Min(r, n), 0, list.Entries.Length, requireAgreement, primaries);
        _readRepair = readRepair;
        R = Math.Min(r, n);
        N = n;
        Phase = _quorum.IsDone ? (Targets.IsEmpty ? GetPhase.Complete : GetPhase.Answered) : GetPhase.AwaitingQuorum;
    }

    /// <summary>Every replica to ask, in preference order.</summary>
    public ImmutableArray<PreferenceListEntry> Targets { get; }

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
        if (!_pending.Remove(node, out bool isPrimary))
        {
            return GetStep.None;
        }

        if (isPrimary)
        {
            _primaryReplies.Add((node, reply));
        }

        _quorum.Add(node, isPrimary, isPrimary ? reply : null);
        return Advance();
    }

    /// <summary>Records a failed or timed-out request to a replica. Returns what to do now.</summary>
    public GetStep OnFailure(NodeId node)
    {
        if (!_pending.Remove(node, out bool isPrimary))
        {
            return GetStep.None;
        }

        _quorum.AddFailure(node, isPrimary);
        return Advance();
    }

    private GetStep Advance()
    {
        GetStep step = GetStep.None;
        if (Phase == GetPhase.AwaitingQuorum && _quorum.IsDone)
        {
            Phase = GetPhase.Answered;
            step |= GetStep.Answer;
        }

        if (Phase == GetPhase.Answered && _pending.Count == 0)
        {
            Phase = GetPhase.Complete;
            if (_readRepair && !Merged.IsEmpty)
            {
                RepairTargets = ReadRepairPlan.StaleReplicas(Merged, _primaryReplies);
                if (RepairTargets.Count > 0)
                {
                    step |= GetStep.Repair;
                }
            }
        }

        return step;
    }
}
