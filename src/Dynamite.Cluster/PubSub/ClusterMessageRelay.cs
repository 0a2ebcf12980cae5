using Dynamite.Cluster.Coordination;
using Dynamite.Cluster.Metrics;
using Dynamite.Cluster.Transport;
using Dynamite.Core.Membership;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Dynamite.Core.PubSub;
using Dynamite.Core.Ring;
using Microsoft.Extensions.Logging;

namespace Dynamite.Cluster.PubSub;

/// <summary>
/// PUBLISH across the cluster, as Redis Cluster broadcasts it on its bus: a message published on this node goes to
/// every other member, whose subscribers get it from their own node (<see cref="Sink"/>). Each member has one bounded
/// queue and one sender at a time, which sends what queued up as one <see cref="PublishBatch"/> and waits for its ack
/// before the next: messages reach a member in publish order, a busy publisher costs one frame per round trip rather
/// than one per message, and a member that is slow or unreachable costs at most its queue's bound. What does not fit, or
/// whose batch fails, is dropped and counted (at most once, as Redis Cluster's pub/sub): subscribers never see a
/// message twice, and a subscriber that must not miss one reads a stream, not a channel.
/// </summary>
public sealed class ClusterMessageRelay(IClusterTopology topology, NodeId self, TimeSpan requestTimeout, ILogger logger, ClusterMetrics? metrics = null)
    : IMessageRelay, IPeerService
{
    /// <summary>The most bytes of messages queued for one member; a member that falls this far behind misses messages.</summary>
    public const long MaxQueuedBytesPerMember = 64L * 1024 * 1024;

    /// <summary>The most payload bytes one batch carries (a larger message travels alone).</summary>
    private const long MaxBatchBytes = 1024 * 1024;

    private readonly Dictionary<NodeId, MemberQueue> _queues = [];
    private readonly Lock _queuesLock = new();
    private (PartitionMap? Map, PartitionMap? Pending, NodeId[] Others) _targets = (null, null, []);
    private long _dropped;

    public IReadOnlyList<PeerMessageType> Serves { get; } = [PeerMessageType.PublishBatch];

    /// <summary>This node's subscribers (the front end); null until the host sets it, and messages arriving before are dropped.</summary>
    public IPublishedMessageSink? Sink { get; set; }

    /// <summary>Messages some member missed because its queue was full or its batch failed.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public void Relay(PublishedMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        foreach (NodeId member in Others())
        {
            if (!topology.IsReachable(member))
            {
                // Its subscribers are disconnected from it or soon will be; queueing would only deliver stale messages.
                CountDropped(1);
                continue;
            }

            QueueFor(member).Enqueue(message);
        }
    }

    public ValueTask HandleAsync(PeerIncomingRequest request, IPeerReplySink reply, CancellationToken connectionClosed)
    {
        ArgumentNullException.ThrowIfNull(reply);
        IPeerPayload answer;
        try
        {
            PublishBatch batch = request.Read<PublishBatch>();
            // Delivered before this returns, so batches from one member reach subscribers in the order they came.
            int deliveries = Sink?.Deliver(batch.Messages) ?? 0;

            answer = new PublishBatchAck(deliveries);
        }
        catch (PeerProtocolException exception)
        {
            answer = ErrorMessage.Create(PeerErrorCode.MalformedPayload, exception.Message);
        }

        reply.Reply(request.RequestId, answer);
        return ValueTask.CompletedTask;
    }

    /// <summary>The members other than this node, current and joining; cached until the maps change.</summary>
    private NodeId[] Others()
    {
        PartitionMap? map = topology.Map;
        PartitionMap? pending = topology.PendingMap;
        var targets = _targets;
        if (ReferenceEquals(targets.Map, map) && ReferenceEquals(targets.Pending, pending))
        {
            return targets.Others;
        }

        NodeId[] others = map is null
            ? []
            : [.. map.Members.Select(m => m.Id).Union(pending?.Members.Select(m => m.Id) ?? []).Where(id => id != self)];
        _targets = (map, pending, others);
        return others;
    }

    private MemberQueue QueueFor(NodeId member)
    {
        lock (_queuesLock)
        {
            if (!_queues.TryGetValue(member, out MemberQueue? queue))
            {
                queue = new MemberQueue(this, member);
                _queues.Add(member, queue);
            }

            return queue;
        }
    }

    /// <summary>Sends one batch and waits for its ack; a failed batch is dropped and counted, never resent.</summary>
    private async Task SendAsync(NodeId member, List<PublishedMessage> batch)
    {
        try
        {
            if (topology.ClientFor(member) is not { } client)
            {
                CountDropped(batch.Count);
                return;
            }

            (await client.SendAsync(new PublishBatch(batch), requestTimeout)).Read<PublishBatchAck>();
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            CountDropped(batch.Count);
            logger.LogDebug(exception, "{Count} published messages did not reach {Member}", batch.Count, member);
        }
    }

    private void CountDropped(int count)
    {
        Interlocked.Add(ref _dropped, count);
        metrics?.PubSubDroppedCounter.Add(count);
    }

    /// <summary>The messages waiting for one member, and the one sender that drains them.</summary>
    private sealed class MemberQueue(ClusterMessageRelay relay, NodeId member)
    {
        private readonly Queue<PublishedMessage> _waiting = new();
        private readonly Lock _lock = new();
        private long _queuedBytes;
        private bool _sending;

        public void Enqueue(PublishedMessage message)
        {
            lock (_lock)
            {
                if (_queuedBytes + message.QueuedBytes > MaxQueuedBytesPerMember)
                {
                    relay.CountDropped(1);
                    return;
                }

                _waiting.Enqueue(message);
                _queuedBytes += message.QueuedBytes;
                if (_sending)
                {
                    return;
                }

                _sending = true;
            }

            _ = Task.Run(SendAllAsync);
        }

        private async Task SendAllAsync()
        {
            while (TakeBatch() is { } batch)
            {
                await relay.SendAsync(member, batch);
            }
        }

        /// <summary>The next batch, in queue order; null (and the sender gone) when nothing waits.</summary>
        private List<PublishedMessage>? TakeBatch()
        {
            lock (_lock)
            {
                if (_waiting.Count == 0)
                {
                    _sending = false;
                    return null;
                }

                var batch = new List<PublishedMessage>(Math.Min(_waiting.Count, PublishBatch.MaxMessages));
                long bytes = 0;
                while (_waiting.Count > 0 && batch.Count < PublishBatch.MaxMessages && (batch.Count == 0 || bytes + _waiting.Peek().QueuedBytes <= MaxBatchBytes))
                {
                    PublishedMessage message = _waiting.Dequeue();
                    bytes += message.QueuedBytes;
                    _queuedBytes -= message.QueuedBytes;
                    batch.Add(message);
                }

                return batch;
            }
        }
    }
}
