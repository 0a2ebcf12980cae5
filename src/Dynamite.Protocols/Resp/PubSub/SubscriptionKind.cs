namespace Dynamite.Protocols.Resp.PubSub;

/// <summary>What a client subscribed to: a channel (SUBSCRIBE), a glob pattern of channels (PSUBSCRIBE) or a shard channel (SSUBSCRIBE).</summary>
public enum SubscriptionKind
{
    Channel,
    Pattern,
    ShardChannel,
}
