using Dynamite.Core.Coordination;
using Dynamite.Core.Membership;
using Dynamite.Core.Quorum;
using Dynamite.Core.Ring;
using Dynamite.Core.Versioning;
using Xunit;

namespace Dynamite.Core.Tests.Coordination;

public sealed class GetRequestTests
{
    private static readonly NodeId Writer = new("writer");

    private static VersionedObject Value(string text, VersionedObject? after = null) =>
        (after ?? VersionedObject.Empty).Update((after ?? VersionedObject.Empty).Context, Writer, System.Text.Encoding.UTF8.GetBytes(text), 1000, 0);

    [Fact]
    public void OnReply_RRepliesOfThree_AnswersAtRThenRepairsTheStaleOneWhenAllAreIn()
    {
        PreferenceList list = RequestTestRing.List(3);
        var request = new GetRequest(list, 3, 2, requireAgreement: false, readRepair: true);
        VersionedObject old = Value("old");
        VersionedObject fresh = Value("new", old);
        NodeId[] targets = [.. request.Targets.Select(t => t.Node)];

        Assert.Equal(GetStep.None, request.OnReply(targets[0], fresh));
        Assert.Equal(GetStep.Answer, request.OnReply(targets[1], fresh));
        Assert.Equal(GetOutcome.Ok, request.Outcome);
        Assert.Equal(GetPhase.Answered, request.Phase);
        Assert.Equal(GetStep.Repair, request.OnReply(targets[2], old));
        Assert.Equal(GetPhase.Complete, request.Phase);
        Assert.Equal([targets[2]], request.RepairTargets);
        Assert.Equal(fresh, request.Merged);
    }

    [Fact]
    public void OnReply_AllReplicasAgree_NoRepair()
    {
        var request = new GetRequest(RequestTestRing.List(3), 3, 2, false, true);
        VersionedObject value = Value("v");
        GetStep last = GetStep.None;
        foreach (PreferenceListEntry target in request.Targets)
        {
            last = request.OnReply(target.Node, value);
        }

        Assert.Equal(GetStep.None, last);
        Assert.Empty(request.RepairTargets);
        Assert.Equal(GetPhase.Complete, request.Phase);
    }

    [Fact]
    public void OnReply_MissingKeyOnOneReplica_ThatReplicaIsRepaired()
    {
        var request = new GetRequest(RequestTestRing.List(3), 3, 2, false, true);
        NodeId[] targets = [.. request.Targets.Select(t => t.Node)];
        request.OnReply(targets[0], null);
        request.OnReply(targets[1], Value("v"));
        Assert.Equal(GetStep.Repair, request.OnReply(targets[2], Value("v")));
        Assert.Equal([targets[0]], request.RepairTargets);
    }

    [Fact]
    public void OnFailure_QuorumBecomesImpossible_AnswersFailedAtOnce()
    {
        var request = new GetRequest(RequestTestRing.List(3), 3, 2, false, true);
        NodeId[] targets = [.. request.Targets.Select(t => t.Node)];
        Assert.Equal(GetStep.None, request.OnFailure(targets[0]));
        Assert.Equal(GetStep.Answer, request.OnFailure(targets[1]));
        Assert.Equal(GetOutcome.Failed, request.Outcome);
    }

    [Fact]
    public void OnReply_SameReplicaTwice_SecondIgnored()
    {
        var request = new GetRequest(RequestTestRing.List(3), 3, 2, false, true);
        NodeId first = request.Targets[0].Node;
        request.OnReply(first, Value("v"));
        Assert.Equal(GetStep.None, request.OnReply(first, Value("v")));
        Assert.Equal(1, request.Replies);
        Assert.Equal(GetOutcome.Pending, request.Outcome);
    }

    [Fact]
    public void OnReply_FallbackAnswers_CountsAsNotFoundAndIsNeverRepaired()
    {
        // One primary down in a 5-node ring: a fallback takes its place in the list.
        PreferenceList list = RequestTestRing.List(5, RequestTestRing.List(5).Primaries[0].Value);
        var request = new GetRequest(list, 3, 3, false, true);
        PreferenceListEntry fallback = request.Targets.Single(t => !t.IsPrimary);
        foreach (PreferenceListEntry target in request.Targets)
        {
            request.OnReply(target.Node, target.IsPrimary ? Value("v") : Value("stale-hint-copy"));
        }

        Assert.Equal(GetOutcome.Ok, request.Outcome);
        Assert.DoesNotContain(fallback.Node, request.RepairTargets);
        Assert.Single(request.Merged.Siblings);
    }

    [Fact]
    public void OnReply_SafeQuorumRepliesDiffer_Disagreement()
    {
        var request = new GetRequest(RequestTestRing.List(3), 3, 2, requireAgreement: true, readRepair: true);
        NodeId[] targets = [.. request.Targets.Select(t => t.Node)];
        request.OnReply(targets[0], Value("a"));
        request.OnReply(targets[1], Value("b"));
        request.OnReply(targets[2], Value("c"));
        Assert.Equal(GetOutcome.Disagreement, request.Outcome);
    }

    [Fact]
    public void Constructor_FewerTargetsThanR_DecidedFailedBeforeAnyReply()
    {
        var request = new GetRequest(RequestTestRing.List(3, "n2", "n3"), 3, 2, false, true);
        Assert.Equal(GetOutcome.Failed, request.Outcome);
        Assert.NotEqual(GetPhase.AwaitingQuorum, request.Phase);
    }
}
