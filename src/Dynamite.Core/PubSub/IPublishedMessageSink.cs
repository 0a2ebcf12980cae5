namespace Dynamite.Core.PubSub;

/// <summary>The subscribers connected to this node: where messages relayed from other nodes are delivered.</summary>
public interface IPublishedMessageSink
{
    /// <summary>Delivers to the matching local subscribers; returns how many received it.</summary>
    int Deliver(PublishedMessage message);
}
