namespace Dynamite.Core.PubSub;

/// <summary>
/// One message a client published: to a channel (PUBLISH) or to a shard channel (SPUBLISH). Immutable, so one
/// instance is shared by every subscriber and every peer it goes to.
/// </summary>
public sealed record PublishedMessage(byte[] Channel, byte[] Payload, bool Sharded)
{
    /// <summary>What the message costs in a bounded queue: its bytes plus a fixed allowance for the record itself.</summary>
    public long QueuedBytes => Channel.Length + Payload.Length + 64;
}
