using Dynamite.Core.Membership;
using Dynamite.Core.Versioning;

namespace Dynamite.Core.Quorum;

/// <summary>
/// Which replicas a read coordinator repairs (Dynamo §4.7, "read repair"; Riak's
/// riak_kv_get_fsm read_repair): every replica whose reply is not the merged object - it answered
/// not found while something exists, or it lacks writes or still holds superseded siblings. Those
/// replicas get the merged object, which they merge into what they store.
/// </summary>
public static class ReadRepairPlan
{
    /// <summary>The replicas, in reply order, whose reply differs from <paramref name="merged"/>.</summary>
    public static IReadOnlyList<NodeId> StaleReplicas(VersionedObject merged, IReadOnlyList<(NodeId Node, VersionedObject? Reply)> replies)
    {
        ArgumentNullException.ThrowIfNull(merged);
        ArgumentNullException.ThrowIfNull(replies);
        List<NodeId>? stale = null;
        foreach ((NodeId node, VersionedObject? reply) in replies)
        {
            bool isStale = reply is null || reply.IsEmpty
                ? !merged.IsEmpty
                : !reply.Equals(merged);
            if (isStale)
            {
                (stale ??= []).Add(node);
            }
        }

        return stale ?? (IReadOnlyList<NodeId>)[];
    }
}
