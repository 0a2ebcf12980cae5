using Dynamite.Core.Membership;

namespace Dynamite.Core.Quorum;

/// <summary>
/// The quorum arithmetic of one write, a pure accumulator the put state machine feeds with
/// acknowledgements (Riak's riak_kv_put_core: add_result, enough, response; Dynamo §4.5, W of N).
/// Success when W replicas acknowledged with at least PW of them primaries (a fallback's ack counts
/// toward W: sloppy quorum); failure as soon as that has become impossible. Decides once.
/// Not thread-safe: one request state machine owns it.
/// </summary>
public sealed class PutQuorum
{
    private readonly List<NodeId> _acked = [];
    private readonly List<NodeId> _failed = [];
    private readonly int _expectedPrimaries;
    private int _primaryAcks;
    private int _primaryFailures;

    /// <param name="w">Acknowledgements needed, at least 1.</param>
    /// <param name="pw">Acknowledgements that must come from primaries, 0..w.</param>
    /// <param name="expectedAcks">Requests sent (primaries and fallbacks); fewer than w fails at once.</param>
    public PutQuorum(int w, int pw, int expectedAcks)
        : this(w, pw, expectedAcks, expectedAcks)
    {
    }

    /// <param name="w">Acknowledgements needed, at least 1.</param>
    /// <param name="pw">Acknowledgements that must come from primaries, 0..w.</param>
    /// <param name="expectedAcks">Requests sent (primaries and fallbacks); fewer than w fails at once.</param>
    /// <param name="expectedPrimaries">How many requests went to primaries; lets PW fail early.</param>
    public PutQuorum(int w, int pw, int expectedAcks, int expectedPrimaries)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(w, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(pw);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pw, w);
        ArgumentOutOfRangeException.ThrowIfNegative(expectedAcks);
        ArgumentOutOfRangeException.ThrowIfNegative(expectedPrimaries);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(expectedPrimaries, expectedAcks);
        W = w;
        PW = pw;
        ExpectedAcks = expectedAcks;
        _expectedPrimaries = expectedPrimaries;
        Decide();
    }

    public int W { get; }

    public int PW { get; }

    public int ExpectedAcks { get; }

    /// <summary>The decision; once it leaves <see cref="PutOutcome.Pending"/> it never changes.</summary>
    public PutOutcome Outcome { get; private set; }

    public bool IsDone => Outcome != PutOutcome.Pending;

    public IReadOnlyList<NodeId> AckedReplicas => _acked;

    public IReadOnlyList<NodeId> FailedReplicas => _failed;

    /// <summary>Records an acknowledgement. A second answer from one replica is ignored and returns false.</summary>
    public bool AddAck(NodeId node, bool isPrimary)
    {
        if (_acked.Contains(node) || _failed.Contains(node))
        {
            return false;
        }

        _acked.Add(node);
        if (isPrimary)
        {
            _primaryAcks++;
        }

        Decide();
        return true;
    }

    /// <summary>Records a failure or timeout. A second answer from one replica is ignored and returns false.</summary>
    public bool AddFailure(NodeId node, bool isPrimary)
    {
        if (_acked.Contains(node) || _failed.Contains(node))
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

    private void Decide()
    {
        if (IsDone)
        {
            return;
        }

        int outstanding = ExpectedAcks - _acked.Count - _failed.Count;
        int outstandingPrimaries = Math.Max(0, _expectedPrimaries - _primaryAcks - _primaryFailures);
        if (_acked.Count >= W && _primaryAcks >= PW)
        {
            Outcome = PutOutcome.Ok;
        }
        else if (_acked.Count + outstanding < W || _primaryAcks + Math.Min(outstandingPrimaries, outstanding) < PW)
        {
            Outcome = PutOutcome.Failed;
        }
    }
}
