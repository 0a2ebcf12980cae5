namespace Dynamite.Core.PubSub;

/// <summary>
/// Carries messages published on this node to the subscribers of every other node (Redis Cluster's semantics: at most
/// once, in order per publisher and channel, never waited for). Null on a standalone node, whose subscribers are all local.
/// </summary>
public interface IMessageRelay
{
    /// <summary>Queues <paramref name="message"/> for every other member; a member whose queue is full misses it (counted).</summary>
    void Relay(PublishedMessage message);
}
