using Dynamite.Core.Coordination;
using Dynamite.Core.Membership;
using Dynamite.Core.Quorum;
using Dynamite.Core.Ring;
using Dynamite.Core.Versioning;
using Xunit;

namespace Dynamite.Core.Tests.Coordination;

/// <summary>A read with <see cref="ReadFanout.Quorum"/>: R targets, the coordinator's own first, stand-bys for failures.</summary>
public sealed class GetRequestFanoutTests
{
    private static readonly NodeId Writer = new("writer");

    private static VersionedObject Value(string text) =>
        VersionedObject.Empty.Update(VersionedObject.Empty.Context, Writer, System.Text.Encoding.UTF8.GetBytes(text), 1000, 0);

    [Fact]
    public void Constructor_QuorumFanout_AsksRTargetsWithThePreferredPrimaryFirst()
    {
        PreferenceList list = RequestTestRing.List(3);
        NodeId second = list.Entries[1].Node;
        var request = new GetRequest(list, 3, 2, false, true, ReadFanout.Quorum, second);

        Assert.Equal([second, list.Entries[0].Node], request.Targets.Select(t => t.Node));
    }

    [Fact]
    public void Constructor_PreferredNodeNotInTheList_AsksTheFirstRInOrder()
    {
        PreferenceList list = RequestTestRing.List(3);
        var request = new GetRequest(list, 3, 2, false, true, ReadFanout.Quorum, new NodeId("elsewhere"));

        Assert.Equal(list.Entries.Take(2), request.Targets);
    }

    [Fact]
    public void OnReply_RTargetsAgree_AnswersAndCompletesWithoutTheThird()
    {
        PreferenceList list = RequestTestRing.List(3);
        var request = new GetRequest(list, 3, 2, false, true, ReadFanout.Quorum, list.Entries[0].Node);
        VersionedObject value = Value("v");

        Assert.Equal(GetStep.None, request.OnReply(request.Targets[0].Node, value));
        Assert.Equal(GetStep.Answer, request.OnReply(request.Targets[1].Node, value));
        Assert.Equal(GetOutcome.Ok, request.Outcome);
        Assert.Equal(GetPhase.Complete, request.Phase);
        Assert.Equal(value, request.Merged);
    }

    [Fact]
    public void OnFailure_ATargetFails_TheStandByIsAskedAndItsReplyCounts()
    {
        PreferenceList list = RequestTestRing.List(3);
        var request = new GetRequest(list, 3, 2, false, true, ReadFanout.Quorum, list.Entries[0].Node);
        VersionedObject value = Value("v");
        request.OnReply(request.Targets[0].Node, value);

        Assert.Equal(GetStep.Ask, request.OnFailure(request.Targets[1].Node));
        Assert.Equal(list.Entries[2], request.NextTarget);
        Assert.Equal(GetStep.Answer, request.OnReply(list.Entries[2].Node, value));
        Assert.Equal(GetOutcome.Ok, request.Outcome);
    }

    [Fact]
    public void OnFailure_EveryStandByFails_QuorumFails()
    {
        PreferenceList list = RequestTestRing.List(3);
        var request = new GetRequest(list, 3, 2, false, true, ReadFanout.Quorum, list.Entries[0].Node);
        request.OnReply(request.Targets[0].Node, Value("v"));
        request.OnFailure(request.Targets[1].Node);

        GetStep last = request.OnFailure(list.Entries[2].Node);

        Assert.Equal(GetStep.Answer, last);
        Assert.Null(request.NextTarget);
        Assert.Equal(GetOutcome.Failed, request.Outcome);
    }

    [Fact]
    public void OnReply_TheTwoAskedDiffer_OnlyTheStaleAskedOneIsRepaired()
    {
        PreferenceList list = RequestTestRing.List(3);
        var request = new GetRequest(list, 3, 2, false, true, ReadFanout.Quorum, list.Entries[0].Node);
        VersionedObject fresh = Value("new");

        request.OnReply(request.Targets[0].Node, fresh);
        GetStep step = request.OnReply(request.Targets[1].Node, null);

        Assert.Equal(GetStep.Answer | GetStep.Repair, step);
        Assert.Equal([request.Targets[1].Node], request.RepairTargets);
    }

    [Fact]
    public void OnSlow_APendingTargetIsSlow_TheStandByIsAskedAndTheFirstRRepliesAnswer()
    {
        PreferenceList list = RequestTestRing.List(3);
        var request = new GetRequest(list, 3, 2, false, true, ReadFanout.Quorum, list.Entries[0].Node);
        VersionedObject value = Value("v");
        NodeId slow = request.Targets[1].Node;
        request.OnReply(request.Targets[0].Node, value);

        Assert.Equal(GetStep.Ask, request.OnSlow(slow));
        Assert.Equal(list.Entries[2], request.NextTarget);
        Assert.Equal(GetStep.None, request.OnSlow(slow)); // no stand-by left
        Assert.Equal(GetStep.Answer, request.OnReply(list.Entries[2].Node, value));
        Assert.Equal(GetPhase.Answered, request.Phase);

        // The slow one still counts when it finally answers (or fails): then the read is complete.
        Assert.Equal(GetStep.None, request.OnFailure(slow));
        Assert.Equal(GetPhase.Complete, request.Phase);
    }

    [Fact]
    public void OnSlow_AfterTheAnswerOrForATargetThatAnswered_AsksNobody()
    {
        PreferenceList list = RequestTestRing.List(3);
        var request = new GetRequest(list, 3, 2, false, true, ReadFanout.Quorum, list.Entries[0].Node);
        request.OnReply(request.Targets[0].Node, Value("v"));

        Assert.Equal(GetStep.None, request.OnSlow(request.Targets[0].Node));
        request.OnReply(request.Targets[1].Node, Value("v"));
        Assert.Equal(GetStep.None, request.OnSlow(request.Targets[1].Node));
        Assert.Null(request.NextTarget);
    }

    [Fact]
    public void Constructor_AgreementRequired_AsksEveryTargetWhateverTheFanout()
    {
        PreferenceList list = RequestTestRing.List(3);
        var request = new GetRequest(list, 3, 2, requireAgreement: true, readRepair: true, ReadFanout.Quorum, list.Entries[0].Node);

        Assert.Equal(list.Entries, request.Targets);
    }

    [Fact]
    public void Constructor_PreferredNodeIsOnlyAFallback_NotAskedFirst()
    {
        // n1 down in a 5-node ring: a fallback stands in. Preferring that fallback must not put its hint-only copy first.
        PreferenceList list = RequestTestRing.List(5, RequestTestRing.List(5).Primaries[0].Value);
        PreferenceListEntry fallback = list.Entries.Single(e => !e.IsPrimary);
        var request = new GetRequest(list, 3, 2, false, true, ReadFanout.Quorum, fallback.Node);

        Assert.All(request.Targets, t => Assert.True(t.IsPrimary));
    }
}
