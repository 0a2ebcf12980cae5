using Dynamite.Core.Membership;
using Dynamite.Core.Quorum;
using Dynamite.Core.Versioning;
using Xunit;

namespace Dynamite.Core.Tests.Quorum;

public sealed class GetQuorumTests
{
    private static readonly NodeId A = new("a");
    private static readonly NodeId B = new("b");
    private static readonly NodeId C = new("c");
    private static readonly NodeId D = new("d");

    private static readonly VersionedObject V1 = VersionedObject.Empty.Update(VersionVector.Empty, A, [1], 1, 0);
    private static readonly VersionedObject V2 = V1.Update(V1.Context, B, [2], 2, 0);
    private static readonly VersionedObject Deleted = V1.Update(V1.Context, A, null, 3, 0);

    // Each step: node, '+' primary or '-' fallback, then reply ('1' = V1, '2' = V2, 'n' = not found, 'd' = tombstone, 'x' = failure).
    [Theory]
    [InlineData(2, 0, false, 3, "a+1 b+1", GetOutcome.Ok)]
    [InlineData(2, 0, false, 3, "a+1 b+2", GetOutcome.Ok)]
    [InlineData(2, 0, false, 3, "a+n b+n", GetOutcome.NotFound)]
    [InlineData(2, 0, false, 3, "a+d b+n", GetOutcome.NotFound)]
    [InlineData(2, 0, false, 3, "a+n b+1", GetOutcome.Ok)]
    [InlineData(2, 0, false, 3, "a+x b+x", GetOutcome.Failed)]
    [InlineData(2, 0, false, 3, "a+x b+1 c+x", GetOutcome.Failed)]
    [InlineData(1, 0, false, 3, "a+x b+x c+1", GetOutcome.Ok)]
    [InlineData(2, 2, false, 4, "a+1 d-1 b+1", GetOutcome.Ok)]
    [InlineData(2, 2, false, 4, "a+1 d-1 b+x c+x", GetOutcome.Failed)]
    [InlineData(2, 0, true, 3, "a+1 b+1", GetOutcome.Ok)]
    [InlineData(2, 0, true, 3, "a+1 b+2 c+2", GetOutcome.Ok)]
    [InlineData(2, 0, true, 3, "a+1 b+2 c+n", GetOutcome.Disagreement)]
    [InlineData(2, 0, true, 3, "a+1 b+2 c+x", GetOutcome.Disagreement)]
    [InlineData(3, 0, true, 3, "a+1 b+2", GetOutcome.Disagreement)]
    [InlineData(2, 0, true, 3, "a+1 b+x c+x", GetOutcome.Failed)]
    public void Add_Sequence_DecidesAtTheLastStep(int r, int pr, bool agreement, int expectedReplies, string steps, GetOutcome expected)
    {
        string[] parts = steps.Split(' ');
        var quorum = new GetQuorum(n: 3, r, pr, expectedReplies, agreement, expectedPrimaries: 3);
        for (int i = 0; i < parts.Length; i++)
        {
            Assert.False(quorum.IsDone, $"decided before step {i}");
            Apply(quorum, parts[i]);
        }

        Assert.True(quorum.IsDone);
        Assert.Equal(expected, quorum.Outcome);
    }

    [Fact]
    public void Add_AfterDecision_KeepsMergingButNeverChangesOutcome()
    {
        var quorum = new GetQuorum(n: 3, r: 2, pr: 0, expectedReplies: 3, requireAgreement: false);
        quorum.Add(A, true, null);
        quorum.Add(B, true, null);
        Assert.Equal(GetOutcome.NotFound, quorum.Outcome);

        quorum.Add(C, true, V2);

        Assert.Equal(GetOutcome.NotFound, quorum.Outcome);
        Assert.Equal(V2, quorum.Merged);
        Assert.Equal(3, quorum.Replies.Count);
    }

    [Fact]
    public void Add_TwoReplies_MergedIsTheirMerge()
    {
        var quorum = new GetQuorum(n: 3, r: 2, pr: 0, expectedReplies: 3, requireAgreement: false);
        quorum.Add(A, true, V1);
        quorum.Add(B, true, V2);
        Assert.Equal(V1.Merge(V2), quorum.Merged);
        Assert.Equal(GetOutcome.Ok, quorum.Outcome);
    }

    [Fact]
    public void Add_SameNodeTwice_CountsOnce()
    {
        var quorum = new GetQuorum(n: 3, r: 2, pr: 0, expectedReplies: 3, requireAgreement: false);
        Assert.True(quorum.Add(A, true, V1));
        Assert.False(quorum.Add(A, true, V1));
        Assert.False(quorum.AddFailure(A, true));
        Assert.False(quorum.IsDone);
    }

    [Fact]
    public void Constructor_FewerExpectedThanR_FailsAtOnce()
    {
        var quorum = new GetQuorum(n: 3, r: 2, pr: 0, expectedReplies: 1, requireAgreement: false);
        Assert.Equal(GetOutcome.Failed, quorum.Outcome);
    }

    [Fact]
    public void AddFailure_PrimariesFailBeyondPR_FailsBeforeFallbacksAnswer()
    {
        var quorum = new GetQuorum(n: 3, r: 2, pr: 2, expectedReplies: 3, requireAgreement: false, expectedPrimaries: 2);
        quorum.AddFailure(A, isPrimary: true);
        Assert.Equal(GetOutcome.Failed, quorum.Outcome);
    }

    [Fact]
    public void Constructor_PrAboveR_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new GetQuorum(3, 1, 2, 3, false));
    }

    private static void Apply(GetQuorum quorum, string step)
    {
        var node = new NodeId(step[..1]);
        bool primary = step[1] == '+';
        switch (step[2])
        {
            case 'x':
                quorum.AddFailure(node, primary);
                break;
            default:
                quorum.Add(node, primary, step[2] switch
                {
                    '1' => V1,
                    '2' => V2,
                    'd' => Deleted,
                    _ => null,
                });
                break;
        }
    }
}
