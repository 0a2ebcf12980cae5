namespace Dynamite.Protocols.Resp.Acl;

/// <summary>
/// Where a node's ACL changes go beyond it: on a cluster node, into the gossiped cluster state, from which every other
/// node applies them (<see cref="RespServer.ApplyReplicatedAclUser"/>).
/// </summary>
public interface IAclUserReplication
{
    /// <summary>User <paramref name="name"/> changed through this node: its rules as ACL LIST writes them, null when deleted.</summary>
    void Publish(string name, string? rules);
}
