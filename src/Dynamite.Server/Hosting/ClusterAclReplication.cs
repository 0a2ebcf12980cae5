using Dynamite.Cluster.Membership;
using Dynamite.Core.Gossip;
using Dynamite.Protocols.Resp;
using Dynamite.Protocols.Resp.Acl;
using Microsoft.Extensions.Logging;

namespace Dynamite.Server.Hosting;

/// <summary>
/// Makes ACL users cluster state: a change through this node's front end becomes the user's next version in the gossiped
/// state (<see cref="GossipMembership.SetAclUser"/>), and every user record the state brings (from gossip, or saved with
/// the state and read at start) is applied to the front end once per version. So a user set through any node is
/// enforced by every node within a few gossip rounds, and users survive restarts with the cluster state.
/// </summary>
internal sealed class ClusterAclReplication : IAclUserReplication
{
    private readonly GossipMembership _membership;
    private readonly RespServer _server;
    private readonly ILogger _logger;
    private readonly Dictionary<string, AclUserRecord> _applied = new(StringComparer.Ordinal);
    private readonly Lock _applying = new();

    private ClusterAclReplication(GossipMembership membership, RespServer server, ILogger logger)
    {
        _membership = membership;
        _server = server;
        _logger = logger;
    }

    /// <summary>Connects <paramref name="server"/>'s users with <paramref name="membership"/>'s state, applying the users it already holds.</summary>
    public static void Attach(GossipMembership membership, RespServer server, ILogger logger)
    {
        var replication = new ClusterAclReplication(membership, server, logger);
        // Subscribed first: a state announced while the current one is applied is applied too (once per version).
        membership.StateChanged += replication.Apply;
        replication.Apply(membership.State);
        server.AclReplication = replication;
    }

    public void Publish(string name, string? rules)
    {
        try
        {
            _membership.SetAclUser(name, rules);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            _logger.LogError(exception, "ACL user {User} changed on this node only: it could not be put in the cluster state", name);
        }
    }

    private void Apply(ClusterState state)
    {
        lock (_applying)
        {
            foreach ((string name, AclUserRecord record) in state.Users)
            {
                if (_applied.TryGetValue(name, out AclUserRecord? seen) && seen == record)
                {
                    continue;
                }

                _applied[name] = record;
                try
                {
                    _server.ApplyReplicatedAclUser(name, record.Deleted ? null : record.Rules);
                }
                catch (Exception exception) when (exception is not OutOfMemoryException)
                {
                    // A rule this node cannot apply (a command a newer node knows): the user stays as it was here.
                    _logger.LogWarning("ACL user {User} version {Version} from {Actor} not applied on this node: {Reason}", name, record.Version, record.Actor, exception.Message);
                }
            }
        }
    }
}
