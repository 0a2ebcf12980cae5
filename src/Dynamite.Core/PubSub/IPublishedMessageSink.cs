namespace Dynamite.Core.PubSub;

/// <summary>The subscribers connected to this node: where messages relayed from other nodes are delivered.</summary>
public interface IPublishedMessageSink
{
    /// <summary>Delivers messages relayed from one node, in order, to the matching local subscribers; returns the deliveries.</summary>
    int Deliver(IReadOnlyList<PublishedMessage> messages);
}
