namespace Dynamite.Protocols.Resp.Commands.SortedSetOperations;

/// <summary>A sorted-set member with its score.</summary>
internal readonly record struct ScoredMember(byte[] Member, double Score)
{
    /// <summary>A sorted set's order: by score, then by the member's bytes (memcmp, a shorter prefix first), as Redis orders it.</summary>
    public static int Compare(ScoredMember x, ScoredMember y)
    {
        int byScore = x.Score.CompareTo(y.Score);
        return byScore != 0 ? byScore : x.Member.AsSpan().SequenceCompareTo(y.Member);
    }
}
