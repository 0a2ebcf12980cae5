using Dynamite.Core.Membership;
using Dynamite.Core.Versioning;

namespace Dynamite.Core.Quorum;

/// <summary>
/// The quorum arithmetic of one read, as a pure accumulator the get state machine feeds with
/// replies (Riak's riak_kv_get_core: add_result, enough, response; Dynamo §4.5, R of N). It decides
/// once - success when R replicas answered (a not-found is an answer) with at least PR of them
/// primaries, failure as soon as that has become impossible - and keeps merging replies that
/// arrive after the decision, so the coordinator can read-repair with everything it heard.
/// <para>
/// With <c>requireAgreement</c> (Netflix Dynomite's DC_SAFE_QUORUM) success needs R replies that
/// are equal objects; when no R replies can agree any more, the outcome is
/// <see cref="GetOutcome.Disagreement"/>.
/// </para>
/// Not thread-safe: one request state machine owns it.
/// </summary>
public sealed class GetQuorum
{
    private readonly List<(NodeId Node, VersionedObject? Reply)> _replies = [];
    private readonly List<NodeId> _failed = [];

    // Agreement classes: distinct replies and how many replicas sent each (only with agreement).
    private readonly List<(VersionedObject Reply, int Count, int Primaries)> _classes = [];
    private readonly int _expectedPrimaries;
    private int _primaryReplies;
    private int _primaryFailures;

    /// <param name="n">Replication factor.</param>
    /// <param name="r">Replies needed, 1..n.</param>
    /// <param name="pr">Replies that must come from primaries, 0..r.</param>
    /// <param name="expectedReplies">Requests sent (primaries and fallbacks); fewer than r fails at once.</param>
    /// <param name="requireAgreement">Success needs r equal replies (DC_SAFE_QUORUM).</param>
    public GetQuorum(int n, int r, int pr, int expectedReplies, bool requireAgreement)
        : this(n, r, pr, expectedReplies, requireAgreement, Math.Min(n, expectedReplies))
    {
    }

    /// <param name="n">Replication factor.</param>
    /// <param name="r">Replies needed, 1..n.</param>
    /// <param name="pr">Replies that must come from primaries, 0..r.</param>
    /// <param name="expectedReplies">Requests sent (primaries and fallbacks); fewer than r fails at once.</param>
    /// <param name="requireAgreement">Success needs r equal replies (DC_SAFE_QUORUM).</param>
    /// <param name="expectedPrimaries">How many of the requests went to primaries; lets PR fail early.</param>
    public GetQuorum(int n, int r, int pr, int expectedReplies, bool requireAgreement, int expectedPrimaries)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(r, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(r, n);
        ArgumentOutOfRangeException.ThrowIfNegative(pr);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pr, r);
        ArgumentOutOfRangeException.ThrowIfNegative(expectedReplies);
        ArgumentOutOfRangeException.ThrowIfNegative(expectedPrimaries);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(expectedPrimaries, expectedReplies);
        N = n;
        R = r;
        PR = pr;
        ExpectedReplies = expectedReplies;
        RequireAgreement = requireAgreement;
        _expectedPrimaries = expectedPrimaries;
        Decide();
    }

    public int N { get; }

    public int R { get; }

    public int PR { get; }

    public int ExpectedReplies { get; }

    public bool RequireAgreement { get; }

    /// <summary>The decision; once it leaves <see cref="GetOutcome.Pending"/> it never changes.</summary>
    public GetOutcome Outcome { get; private set; }

    public bool IsDone => Outcome != GetOutcome.Pending;

    /// <summary>The merge of every reply so far, late ones included: what the client gets and read repair sends.</summary>
    public VersionedObject Merged { get; private set; } = VersionedObject.Empty;

    /// <summary>Every reply so far, null for not found, in arrival order: the input of <see cref="ReadRepairPlan.StaleReplicas"/>.</summary>
    public IReadOnlyList<(NodeId Node, VersionedObject? Reply)> Replies => _replies;

    /// <summary>Replicas that failed or timed out.</summary>
    public IReadOnlyList<NodeId> FailedReplicas => _failed;

    /// <summary>Records a reply (null: the replica does not have the key). A second answer from one replica is ignored and returns false.</summary>
    public bool Add(NodeId node, bool isPrimary, VersionedObject? reply)
    {
        if (HasAnswered(node))
        {
            return false;
        }

        _replies.Add((node, reply));
        if (isPrimary)
        {
            _primaryReplies++;
        }

        VersionedObject value = reply ?? VersionedObject.Empty;
        Merged = Merged.Merge(value);
        if (RequireAgreement)
        {
            AddToClass(value, isPrimary);
        }

        Decide();
        return true;
    }

    /// <summary>Records a failure or timeout. A second answer from one replica is ignored and returns false.</summary>
    public bool AddFailure(NodeId node, bool isPrimary)
    {
        if (HasAnswered(node))
        {
            return false;
        }

        _failed.Add(node);
        if (isPrimary)
        {
            _primaryFailures++;
        }

        Decide();
        return true;
    }

    private bool HasAnswered(NodeId node)
    {
        foreach ((NodeId answered, _) in _replies)
        {
            if (answered == node)
            {
                return true;
            }
        }

        return _failed.Contains(node);
    }

    private void AddToClass(VersionedObject value, bool isPrimary)
    {
        for (int i = 0; i < _classes.Count; i++)
        {
            (VersionedObject reply, int count, int primaries) = _classes[i];
            if (reply.Equals(value))
            {
                _classes[i] = (reply, count + 1, primaries + (isPrimary ? 1 : 0));
                return;
            }
        }

        _classes.Add((value, 1, isPrimary ? 1 : 0));
    }

    /// <summary>Riak's enough/response: decide as soon as the outcome is certain, then never again.</summary>
    private void Decide()
    {
        if (IsDone)
        {
            return;
        }

        int answered = _replies.Count + _failed.Count;
        int outstanding = ExpectedReplies - answered;
        if (RequireAgreement)
        {
            int largest = 0;
            foreach ((_, int count, _) in _classes)
            {
                largest = Math.Max(largest, count);
            }

            foreach ((VersionedObject reply, int count, _) in _classes)
            {
                if (count >= R && _primaryReplies >= PR)
                {
                    Outcome = reply.HasLiveValue ? GetOutcome.Ok : GetOutcome.NotFound;
                    return;
                }
            }

            if (!QuorumStillPossible(outstanding))
            {
                Outcome = GetOutcome.Failed;
            }
            else if (largest + outstanding < R)
            {
                Outcome = GetOutcome.Disagreement;
            }

            return;
        }

        if (_replies.Count >= R && _primaryReplies >= PR)
        {
            Outcome = Merged.HasLiveValue ? GetOutcome.Ok : GetOutcome.NotFound;
        }
        else if (!QuorumStillPossible(outstanding))
        {
            Outcome = GetOutcome.Failed;
        }
    }

    private bool QuorumStillPossible(int outstanding)
    {
        int outstandingPrimaries = Math.Max(0, _expectedPrimaries - _primaryReplies - _primaryFailures);
        return _replies.Count + outstanding >= R
            && _primaryReplies + Math.Min(outstandingPrimaries, outstanding) >= PR;
    }
}
