namespace Dynamite.Core.Gossip;

/// <summary>
/// Where a member is in its life cycle (riak_core's member status). Gossiped and persisted, so the
/// values are append-only and pinned by a test. The numeric order is also the severity used to break
/// ties between two records of one member at the same incarnation: the more final status wins
/// (Removed beats Down beats Leaving beats Up beats Joining), so a tie never loses a departure.
/// </summary>
public enum MemberStatus : byte
{
    /// <summary>Known to the cluster and receiving partitions, but not yet serving them (warm-up).</summary>
    Joining = 1,

    /// <summary>A full member: owns and serves its partitions.</summary>
    Up = 2,

    /// <summary>Asked to leave: its partitions are being handed to others; it serves until they are.</summary>
    Leaving = 3,

    /// <summary>Unreachable according to a failure detector; keeps its partitions (a down node usually comes back).</summary>
    Down = 4,

    /// <summary>Gone for good (left, or removed by an operator): a tombstone, so the member is never resurrected by old gossip.</summary>
    Removed = 5,
}
