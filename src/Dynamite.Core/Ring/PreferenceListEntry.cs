using Dynamite.Core.Membership;

namespace Dynamite.Core.Ring;

/// <summary>
/// One replica a coordinator sends a request to. A fallback (<see cref="IsPrimary"/> false) stands
/// in for the unreachable primary <see cref="HintFor"/>: it stores the write with a hint and hands
/// it back when that primary returns (Dynamo §4.6, hinted handoff). Riak tags its preference list
/// entries primary or fallback the same way; that tag is all sloppy quorum needs.
/// </summary>
/// <param name="Node">The replica.</param>
/// <param name="IsPrimary">True for one of the partition's N primaries.</param>
/// <param name="HintFor">For a fallback, the primary it replaces; null for a primary.</param>
public readonly record struct PreferenceListEntry(NodeId Node, bool IsPrimary, NodeId? HintFor)
{
    public override string ToString() => IsPrimary ? $"{Node}" : $"{Node}(for {HintFor})";
}
