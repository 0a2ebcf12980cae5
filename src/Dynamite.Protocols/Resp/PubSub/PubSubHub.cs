using Dynamite.Core.KeyValue;
using Dynamite.Core.PubSub;

namespace Dynamite.Protocols.Resp.PubSub;

/// <summary>
/// This node's subscribers, indexed by channel, pattern and shard channel, and the delivery of messages to them. A
/// message published here is delivered to the local subscribers and handed to the <see cref="Relay"/> for every other
/// node; one relayed from another node comes in through <see cref="Deliver"/>. Each message is encoded once per frame
/// shape and queued on each subscriber's <see cref="ClientOutbox"/>, so a publisher never waits for a subscriber. The
/// index is copy-on-write: subscribing takes a lock, publishing reads the current arrays without one.
/// </summary>
public sealed class PubSubHub(Func<long> nowUnixMs) : IPublishedMessageSink
{
    private static readonly byte[] MessageKind = "message"u8.ToArray();
    private static readonly byte[] ShardMessageKind = "smessage"u8.ToArray();
    private static readonly byte[] PatternMessageKind = "pmessage"u8.ToArray();
    private readonly Lock _lock = new();
    private readonly Dictionary<byte[], ClientSession[]>[] _index =
    [
        new(ByteArrayComparer.Instance),
        new(ByteArrayComparer.Instance),
        new(ByteArrayComparer.Instance),
    ];

    private volatile KeyValuePair<byte[], ClientSession[]>[] _patterns = [];
    private volatile OutputBufferLimit _limit = new();

    /// <summary>Carries messages to the other nodes; null on a standalone node.</summary>
    public IMessageRelay? Relay { get; init; }

    /// <summary>The pub/sub clients' output limit (<c>client-output-buffer-limit pubsub</c>).</summary>
    public OutputBufferLimit Limit
    {
        get => _limit;
        set => _limit = value;
    }

    /// <summary>Distinct patterns with at least one subscriber (PUBSUB NUMPAT).</summary>
    public int PatternCount => _patterns.Length;

    /// <summary>Adds the subscription; false when the client had it already.</summary>
    public bool Subscribe(ClientSession client, SubscriptionKind kind, byte[] name)
    {
        ArgumentNullException.ThrowIfNull(client);
        ClientSubscriptions subscriptions = client.Subscriptions ??= new ClientSubscriptions();
        if (!subscriptions.Add(kind, name))
        {
            return false;
        }

        client.EnsureOutbox();

        lock (_lock)
        {
            Dictionary<byte[], ClientSession[]> index = _index[(int)kind];
            index[name] = index.TryGetValue(name, out ClientSession[]? existing) ? [.. existing, client] : [client];
            if (kind == SubscriptionKind.Pattern)
            {
                _patterns = [.. index];
            }
        }

        return true;
    }

    /// <summary>Removes the subscription; false when the client did not have it.</summary>
    public bool Unsubscribe(ClientSession client, SubscriptionKind kind, byte[] name)
    {
        ArgumentNullException.ThrowIfNull(client);
        if (client.Subscriptions is not { } subscriptions || !subscriptions.Remove(kind, name))
        {
            return false;
        }

        lock (_lock)
        {
            Dictionary<byte[], ClientSession[]> index = _index[(int)kind];
            if (index.TryGetValue(name, out ClientSession[]? existing))
            {
                ClientSession[] rest = [.. existing.Where(c => c != client)];
                if (rest.Length == 0)
                {
                    index.Remove(name);
                }
                else
                {
                    index[name] = rest;
                }
            }

            if (kind == SubscriptionKind.Pattern)
            {
                _patterns = [.. index];
            }
        }

        return true;
    }

    /// <summary>Whether <paramref name="client"/> is subscribed to <paramref name="channel"/> (safe from any thread).</summary>
    public bool IsSubscribed(ClientSession client, byte[] channel)
    {
        lock (_lock)
        {
            return _index[(int)SubscriptionKind.Channel].TryGetValue(channel, out ClientSession[]? subscribers) && subscribers.Contains(client);
        }
    }

    /// <summary>Every subscription of a client that is going away.</summary>
    public void RemoveAll(ClientSession client)
    {
        ArgumentNullException.ThrowIfNull(client);
        if (client.Subscriptions is not { } subscriptions)
        {
            return;
        }

        foreach (SubscriptionKind kind in Enum.GetValues<SubscriptionKind>())
        {
            foreach (byte[] name in subscriptions.Of(kind).ToArray())
            {
                Unsubscribe(client, kind, name);
            }
        }
    }

    /// <summary>
    /// PUBLISH and SPUBLISH: delivers to this node's subscribers and relays to the other nodes; returns the local
    /// deliveries, as a Redis Cluster node does. A subscriber that is the publisher itself (a RESP3 client) gets the
    /// message in <paramref name="publisherWriter"/>, ahead of PUBLISH's own reply, as redis-server orders them.
    /// </summary>
    public int Publish(PublishedMessage message, ClientSession? publisher = null, RespWriter? publisherWriter = null)
    {
        WakeList wakes = WakeList.Rent();
        int delivered = DeliverLocal(message, publisher, publisherWriter, wakes);
        wakes.WakeAllAndReturn();
        Relay?.Relay(message);
        return delivered;
    }

    /// <summary>Messages relayed from another node, in order: each subscriber is woken once for all of them.</summary>
    public int Deliver(IReadOnlyList<PublishedMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        WakeList wakes = WakeList.Rent();
        int delivered = 0;
        foreach (PublishedMessage message in messages)
        {
            delivered += DeliverLocal(message, null, null, wakes);
        }

        wakes.WakeAllAndReturn();
        return delivered;
    }

    /// <summary>The channels (or shard channels) with a subscriber, optionally matching a glob pattern (PUBSUB CHANNELS).</summary>
    public IReadOnlyList<byte[]> ActiveChannels(SubscriptionKind kind, byte[]? pattern)
    {
        lock (_lock)
        {
            return [.. _index[(int)kind].Keys.Where(name => pattern is null || GlobPattern.IsMatch(pattern, name))];
        }
    }

    /// <summary>Subscribers of one channel (PUBSUB NUMSUB).</summary>
    public int SubscriberCount(SubscriptionKind kind, byte[] channel)
    {
        lock (_lock)
        {
            return _index[(int)kind].TryGetValue(channel, out ClientSession[]? subscribers) ? subscribers.Length : 0;
        }
    }

    private int DeliverLocal(PublishedMessage message, ClientSession? publisher, RespWriter? publisherWriter, WakeList wakes)
    {
        SubscriptionKind kind = message.Sharded ? SubscriptionKind.ShardChannel : SubscriptionKind.Channel;
        ClientSession[]? subscribers;
        lock (_lock)
        {
            _index[(int)kind].TryGetValue(message.Channel, out subscribers);
        }

        int delivered = 0;
        if (subscribers is not null)
        {
            var frames = new FramePair(message.Sharded ? ShardMessageKind : MessageKind, null, message);
            foreach (ClientSession subscriber in subscribers)
            {
                delivered += Push(subscriber, ref frames, publisher, publisherWriter, wakes);
            }
        }

        if (message.Sharded)
        {
            return delivered;
        }

        foreach (KeyValuePair<byte[], ClientSession[]> pattern in _patterns)
        {
            if (!GlobPattern.IsMatch(pattern.Key, message.Channel))
            {
                continue;
            }

            var frames = new FramePair(PatternMessageKind, pattern.Key, message);
            foreach (ClientSession subscriber in pattern.Value)
            {
                delivered += Push(subscriber, ref frames, publisher, publisherWriter, wakes);
            }
        }

        return delivered;
    }

    private int Push(ClientSession subscriber, ref FramePair frames, ClientSession? publisher, RespWriter? publisherWriter, WakeList wakes)
    {
        byte[] frame = frames.For(subscriber.ProtocolVersion == 3);
        if (subscriber == publisher && publisherWriter is not null)
        {
            publisherWriter.Pushing = true;
            publisherWriter.WriteRaw(frame);
            publisherWriter.Pushing = false;
            return 1;
        }

        return subscriber.Outbox is { } outbox && outbox.TryPush(frame, _limit, nowUnixMs(), wakes) ? 1 : 0;
    }

    /// <summary>A message's frame in RESP2 and RESP3, each encoded on first use.</summary>
    private struct FramePair(byte[] kind, byte[]? pattern, PublishedMessage message)
    {
        private byte[]? _resp2;
        private byte[]? _resp3;

        public byte[] For(bool resp3) => resp3 ? _resp3 ??= Encode(true) : _resp2 ??= Encode(false);

        private readonly byte[] Encode(bool resp3) => pattern is null
            ? PushFrames.Message(resp3, kind, message.Channel, message.Payload)
            : PushFrames.PatternMessage(resp3, pattern, message.Channel, message.Payload);
    }
}
