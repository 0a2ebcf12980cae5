using Dynamite.Core.Membership;
using Dynamite.Core.Quorum;
using Xunit;

namespace Dynamite.Core.Tests.Quorum;

public sealed class PutQuorumTests
{
    // Each step: node, '+' primary or '-' fallback, then 'k' ack or 'x' failure.
    [Theory]
    [InlineData(2, 0, 3, 3, "a+k b+k", PutOutcome.Ok)]
    [InlineData(2, 0, 3, 3, "a+x b+k c+k", PutOutcome.Ok)]
    [InlineData(2, 0, 3, 3, "a+x b+x", PutOutcome.Failed)]
    [InlineData(1, 0, 3, 3, "a+x b+x c+k", PutOutcome.Ok)]
    [InlineData(3, 0, 3, 3, "a+k b+x", PutOutcome.Failed)]
    [InlineData(2, 0, 3, 2, "a+k d-k", PutOutcome.Ok)]
    [InlineData(2, 2, 3, 2, "a+k d-k b+k", PutOutcome.Ok)]
    [InlineData(2, 2, 3, 2, "a+x", PutOutcome.Failed)]
    [InlineData(2, 1, 3, 1, "d-k e-k a+x", PutOutcome.Failed)]
    [InlineData(2, 2, 4, 4, "d-k e-k a+k b+k", PutOutcome.Ok)]
    [InlineData(2, 2, 4, 4, "d-k e-k a+k b+x", PutOutcome.Failed)]
    public void AddAck_Sequence_DecidesAtTheLastStep(int w, int pw, int expectedAcks, int expectedPrimaries, string steps, PutOutcome expected)
    {
        var quorum = new PutQuorum(w, pw, expectedAcks, expectedPrimaries);
        string[] parts = steps.Split(' ');
        for (int i = 0; i < parts.Length; i++)
        {
            Assert.False(quorum.IsDone, $"decided before step {i}");
            var node = new NodeId(parts[i][..1]);
            bool primary = parts[i][1] == '+';
            if (parts[i][2] == 'k')
            {
                quorum.AddAck(node, primary);
            }
            else
            {
                quorum.AddFailure(node, primary);
            }
        }

        Assert.Equal(expected, quorum.Outcome);
    }

    [Fact]
    public void AddAck_AfterDecision_NeverChangesOutcome()
    {
        var quorum = new PutQuorum(w: 1, pw: 0, expectedAcks: 3);
        quorum.AddAck(new NodeId("a"), true);
        quorum.AddFailure(new NodeId("b"), true);
        quorum.AddFailure(new NodeId("c"), true);
        Assert.Equal(PutOutcome.Ok, quorum.Outcome);
        Assert.Equal(2, quorum.FailedReplicas.Count);
    }

    [Fact]
    public void AddAck_SameNodeTwice_CountsOnce()
    {
        var quorum = new PutQuorum(w: 2, pw: 0, expectedAcks: 3);
        Assert.True(quorum.AddAck(new NodeId("a"), true));
        Assert.False(quorum.AddAck(new NodeId("a"), true));
        Assert.False(quorum.IsDone);
    }

    [Fact]
    public void Constructor_FewerExpectedThanW_FailsAtOnce()
    {
        Assert.Equal(PutOutcome.Failed, new PutQuorum(w: 2, pw: 0, expectedAcks: 1).Outcome);
    }
}
