using Dynamite.Core.Membership;

namespace Dynamite.Core.Quorum;

/// <summary>
/// The quorum arithmetic of one write, a pure accumulator the put state machine feeds with
/// acknowledgements (Riak's riak_kv_put_core: add_result, enough, response; Dynamo §4.5, W of N).
/// Success when W replicas acknowledged with at least PW of them primaries (a fallback's ack counts
/// toward W: sloppy quorum); failure as soon as that has become impossible. Decides once.
/// Not thread-safe: one request state machine owns it. One is made per client write: the replicas that answered
/// share one array, in the order they answered, each marked acknowledged or failed.
/// </summary>
public sealed class PutQuorum
{
    private (NodeId Node, bool Acked)[] _answers;
    private int _answerCount;
    private int _ackCount;
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
        _answers = new (NodeId, bool)[Math.Max(expectedAcks, 1)];
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

    /// <summary>How many replicas acknowledged.</summary>
    public int AckCount => _ackCount;

    /// <summary>The replicas that acknowledged, in the order they did (a new list: for diagnostics and tests).</summary>
    public IReadOnlyList<NodeId> AckedReplicas => Answered(acked: true);

    /// <summary>The replicas that failed or timed out, in the order they did (a new list).</summary>
    public IReadOnlyList<NodeId> FailedReplicas => Answered(acked: false);

    /// <summary>Records an acknowledgement. A second answer from one replica is ignored and returns false.</summary>
    public bool AddAck(NodeId node, bool isPrimary)
    {
        if (!TryRecord(node, acked: true))
        {
            return false;
        }

        _ackCount++;
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
        if (!TryRecord(node, acked: false))
        {
            return false;
        }

        if (isPrimary)
        {
            _primaryFailures++;
        }

        Decide();
        return true;
    }

    private bool TryRecord(NodeId node, bool acked)
    {
        for (int i = 0; i < _answerCount; i++)
        {
            if (_answers[i].Node == node)
            {
                return false;
            }
        }

        if (_answerCount == _answers.Length)
        {
            Array.Resize(ref _answers, _answers.Length * 2);
        }

        _answers[_answerCount++] = (node, acked);
        return true;
    }

    private List<NodeId> Answered(bool acked)
    {
        var nodes = new List<NodeId>();
        for (int i = 0; i < _answerCount; i++)
        {
            if (_answers[i].Acked == acked)
            {
                nodes.Add(_answers[i].Node);
            }
        }

        return nodes;
    }

    private void Decide()
    {
        if (IsDone)
        {
            return;
        }

        int outstanding = ExpectedAcks - _answerCount;
        int outstandingPrimaries = Math.Max(0, _expectedPrimaries - _primaryAcks - _primaryFailures);
        if (_ackCount >= W && _primaryAcks >= PW)
        {
            Outcome = PutOutcome.Ok;
        }
        else if (_ackCount + outstanding < W || _primaryAcks + Math.Min(outstandingPrimaries, outstanding) < PW)
        {
            Outcome = PutOutcome.Failed;
        }
    }
}
