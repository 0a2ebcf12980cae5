using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp.PubSub;

/// <summary>One client's subscriptions, by kind; changed by its own connection only (the hub keeps the reverse index).</summary>
public sealed class ClientSubscriptions
{
    private readonly HashSet<byte[]>[] _byKind =
    [
        new(ByteArrayComparer.Instance),
        new(ByteArrayComparer.Instance),
        new(ByteArrayComparer.Instance),
    ];

    /// <summary>Channels plus patterns: the count SUBSCRIBE, PSUBSCRIBE and their opposites reply with, as redis-server.</summary>
    public int ChannelsAndPatterns => _byKind[(int)SubscriptionKind.Channel].Count + _byKind[(int)SubscriptionKind.Pattern].Count;

    /// <summary>The count SSUBSCRIBE and SUNSUBSCRIBE reply with.</summary>
    public int ShardChannels => _byKind[(int)SubscriptionKind.ShardChannel].Count;

    public int Total => ChannelsAndPatterns + ShardChannels;

    public IReadOnlyCollection<byte[]> Of(SubscriptionKind kind) => _byKind[(int)kind];

    public bool Add(SubscriptionKind kind, byte[] name) => _byKind[(int)kind].Add(name);

    public bool Remove(SubscriptionKind kind, byte[] name) => _byKind[(int)kind].Remove(name);

    /// <summary>The count a (un)subscribe reply of <paramref name="kind"/> carries.</summary>
    public int CountFor(SubscriptionKind kind) => kind == SubscriptionKind.ShardChannel ? ShardChannels : ChannelsAndPatterns;
}
