namespace Dynamite.Core.Coordination;

/// <summary>Which replicas a quorum read asks up front.</summary>
public enum ReadFanout
{
    /// <summary>
    /// Every target of the preference list (Dynamo §4.5, Riak): R replies answer, the rest still arrive and feed
    /// read repair of every primary. Costs N requests per read.
    /// </summary>
    All = 0,

    /// <summary>
    /// Only R targets, the coordinator's own copy first (Cassandra's default): a failed one is replaced by the
    /// next unasked target. Read repair covers the replicas asked; anti-entropy converges the others. Costs R
    /// requests per read, so R - 1 remote ones when the coordinator holds a replica.
    /// </summary>
    Quorum = 1,
}
