using Dynamite.Core.Coordination;
using Dynamite.Core.Membership;
using Dynamite.Core.Quorum;
using Dynamite.Core.Ring;
using Xunit;

namespace Dynamite.Core.Tests.Coordination;

public sealed class PutRequestTests
{
    [Fact]
    public void OnAck_W2OfThree_AnswersOkAtTheSecondAcknowledgement()
    {
        PreferenceList list = RequestTestRing.List(3);
        NodeId self = list.Primaries[0];
        var request = new PutRequest(list, self, 2);
        Assert.Equal(2, request.ReplicaWrites.Count);
        Assert.Equal(PutStep.None, request.OnLocalWrite());
        Assert.Equal(PutStep.Answer, request.OnAck(request.ReplicaWrites[0].Node));
        Assert.Equal(PutOutcome.Ok, request.Outcome);
        Assert.False(request.IsSettled);
        Assert.Equal(PutStep.None, request.OnAck(request.ReplicaWrites[1].Node));
        Assert.True(request.IsSettled);
    }

    [Fact]
    public void OnLocalWrite_W1_AnswersAtOnce()
    {
        PreferenceList list = RequestTestRing.List(3);
        var request = new PutRequest(list, list.Primaries[1], 1);
        Assert.Equal(PutStep.Answer, request.OnLocalWrite());
        Assert.Equal(PutOutcome.Ok, request.Outcome);
    }

    [Fact]
    public void OnFailure_PrimaryWriteFails_HintForThatPrimaryEvenAfterTheAnswer()
    {
        PreferenceList list = RequestTestRing.List(3);
        var request = new PutRequest(list, list.Primaries[0], 1);
        request.OnLocalWrite();
        NodeId failed = request.ReplicaWrites[0].Node;
        Assert.Equal(PutStep.StoreHint, request.OnFailure(failed, out NodeId owner));
        Assert.Equal(failed, owner);
    }

    [Fact]
    public void OnFailure_WBecomesImpossible_AnswersFailedAndHints()
    {
        PreferenceList list = RequestTestRing.List(3);
        var request = new PutRequest(list, list.Primaries[0], 3);
        request.OnLocalWrite();
        Assert.Equal(PutStep.StoreHint | PutStep.Answer, request.OnFailure(request.ReplicaWrites[0].Node, out _));
        Assert.Equal(PutOutcome.Failed, request.Outcome);
    }

    [Fact]
    public void Constructor_PrimaryDownWithFallback_FallbackWriteCarriesTheHintOwner()
    {
        PreferenceList healthy = RequestTestRing.List(5);
        NodeId down = healthy.Primaries[2];
        PreferenceList list = RequestTestRing.List(5, down.Value);
        var request = new PutRequest(list, list.Primaries[0], 2);
        PreferenceListEntry fallback = request.ReplicaWrites.Single(w => !w.IsPrimary);
        Assert.Equal(down, fallback.HintFor);
        Assert.Empty(request.HintsAtCoordinator);
        request.OnLocalWrite();
        Assert.Equal(PutStep.StoreHint, request.OnFailure(fallback.Node, out NodeId owner) & PutStep.StoreHint);
        Assert.Equal(down, owner);
    }

    [Fact]
    public void Constructor_CoordinatorIsAFallback_LocalHintForThePrimaryItStandsIn()
    {
        // Found by the simulation (seed 288, MeanFaultIntervalMs=500): a fallback coordinator's own copy lived only in
        // its main store, which reads never ask, so a W=2 write acknowledged by it and one primary was lost when that
        // primary was wiped.
        PreferenceList healthy = RequestTestRing.List(5);
        NodeId down = healthy.Primaries[0];
        PreferenceList list = RequestTestRing.List(5, down.Value);
        NodeId fallback = list.Entries.Single(e => !e.IsPrimary).Node;
        var request = new PutRequest(list, fallback, 2);
        Assert.Equal(down, request.LocalHintFor);
        Assert.Equal(2, request.ReplicaWrites.Count);
        Assert.All(request.ReplicaWrites, w => Assert.True(w.IsPrimary));
        Assert.Null(new PutRequest(list, list.Entries[0].Node, 2).LocalHintFor);
    }

    [Fact]
    public void Constructor_PrimaryDownNoFallbackFree_CoordinatorKeepsItsHint()
    {
        PreferenceList list = RequestTestRing.List(3, "n3");
        NodeId self = list.Primaries.First(p => p != new NodeId("n3"));
        var request = new PutRequest(list, self, 2);
        Assert.Equal([new NodeId("n3")], request.HintsAtCoordinator);
        Assert.Single(request.ReplicaWrites);
    }

    [Fact]
    public void CanCoordinate_NodeOutsideThePreferenceList_FalseAndConstructorRefuses()
    {
        PreferenceList list = RequestTestRing.List(5);
        NodeId outsider = Enumerable.Range(1, 5).Select(i => new NodeId($"n{i}")).First(n => !list.Primaries.Contains(n));
        Assert.False(PutRequest.CanCoordinate(list, outsider));
        Assert.Throws<ArgumentException>(() => new PutRequest(list, outsider, 2));
    }
}
