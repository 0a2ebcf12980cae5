using System.Buffers.Binary;
using Dynamite.Cluster.AntiEntropy;
using Dynamite.Cluster.Replication;
using Dynamite.Cluster.State;
using Dynamite.Cluster.Transport;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Dynamite.Core.Ring;
using Microsoft.Extensions.Logging;

namespace Dynamite.Cluster.Coordination;

/// <summary>
/// FLUSHALL and FLUSHDB on a cluster: every key written before the flush is gone on every member, and none comes back
/// through a hint, a read repair, an anti-entropy copy or a late replica write. The coordinator takes a horizon (its
/// clock's now) and sends it to every member, itself included; each member saves the horizon, deletes every key,
/// and from then on drops any arriving write stamped at or before it (<see cref="ReplicaStore.FlushedBeforeUnixMs"/>).
/// A flush is refused while a member is unreachable, as Cassandra refuses TRUNCATE: a member that missed it would
/// hand its copies back. As with TRUNCATE, the horizon is a wall-clock time: a member stamps its own writes after the
/// last horizon it applied, but a write coordinated during the flush by a member that had not applied it yet, with a
/// clock lagging the coordinator's, is taken for a flushed one.
/// </summary>
public sealed class ClusterFlush(
    ReplicaStore replica, AntiEntropyTrees trees, IClusterTopology topology, INodeStateStore files, NodeId self, TimeSpan requestTimeout, TimeProvider clock, ILogger logger)
    : IPeerService
{
    /// <summary>The state file holding the last horizon (8 bytes, big-endian Unix milliseconds).</summary>
    public const string HorizonFile = "flush-horizon";

    /// <summary>
    /// The least a member is given to apply a flush: deleting a large store (RocksDB compacting away every range) takes
    /// longer than a request's usual timeout, and a member that answers late has still flushed.
    /// </summary>
    private static readonly TimeSpan ApplyTimeout = TimeSpan.FromSeconds(30);

    private readonly Lock _horizonLock = new();

    public IReadOnlyList<PeerMessageType> Serves { get; } = [PeerMessageType.FlushRequest];

    /// <summary>The horizon saved by the last flush this node applied; 0 when none.</summary>
    public static long LoadHorizon(INodeStateStore files)
    {
        ArgumentNullException.ThrowIfNull(files);
        return files.Read(HorizonFile) is { Length: sizeof(long) } bytes ? BinaryPrimitives.ReadInt64BigEndian(bytes) : 0;
    }

    /// <summary>
    /// Flushes the whole cluster. Throws <see cref="StoreUnavailableException"/> when a member is unreachable (nothing
    /// is flushed) or did not confirm (the others are flushed: running it again once every member is back completes it).
    /// </summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        PartitionMap map = topology.Map ?? throw new StoreUnavailableException("ERR FLUSHALL: this node has not joined a cluster yet");
        NodeId[] members = [.. map.Members.Select(m => m.Id).Union(topology.PendingMap?.Members.Select(m => m.Id) ?? [])];
        long horizon = clock.GetUtcNow().ToUnixTimeMilliseconds();
        NodeId[] others = [.. members.Where(m => m != self)];

        // First every member must answer, before anything is deleted anywhere: this, not the failure detector's view,
        // decides. The detector can mark a live peer down for a moment when this node's own threads run late (a busy
        // machine), and a flush refused then would have reached every member; a member that is really down does not
        // answer (a refused connection fails at once, a hung one within the request timeout).
        string[] silent = [.. (await Task.WhenAll(others.Select(m => SendAsync(m, new FlushRequest(horizon, CheckOnly: true), cancellationToken)))).OfType<string>()];
        if (silent.Length > 0)
        {
            throw new StoreUnavailableException(
                $"ERR FLUSHALL needs every member reachable, so that none hands flushed keys back later; not answering: {string.Join("; ", silent)}");
        }

        Task<string?>[] sends = [.. others.Select(m => SendAsync(m, new FlushRequest(horizon), cancellationToken))];
        await ApplyAsync(horizon, cancellationToken);
        string[] failed = [.. (await Task.WhenAll(sends)).OfType<string>()];
        if (failed.Length > 0)
        {
            throw new StoreUnavailableException(
                $"ERR FLUSHALL reached {members.Length - failed.Length} of {members.Length} members; not confirmed by {string.Join("; ", failed)}. Run it again once they answer.");
        }

        logger.LogInformation("FLUSHALL applied on all {Members} members (horizon {Horizon})", members.Length, horizon);
    }

    /// <summary>Applies a flush here: saves the horizon (it only grows), then deletes every key and rebuilds the Merkle trees.</summary>
    public async Task ApplyAsync(long horizonUnixMs, CancellationToken cancellationToken = default)
    {
        lock (_horizonLock)
        {
            if (horizonUnixMs > replica.FlushedBeforeUnixMs)
            {
                byte[] bytes = new byte[sizeof(long)];
                BinaryPrimitives.WriteInt64BigEndian(bytes, horizonUnixMs);
                files.Write(HorizonFile, bytes);
                replica.FlushedBeforeUnixMs = horizonUnixMs;
            }
        }

        // Saved before anything is deleted: a member that crashes between the two has not confirmed, so the
        // coordinator reports the flush incomplete, and running it again clears what is left.
        await replica.Engine.ClearAsync(cancellationToken);
        trees.RebuildAll(replica.Engine, clock.GetUtcNow().ToUnixTimeMilliseconds());
    }

    public async ValueTask HandleAsync(PeerIncomingRequest request, IPeerReplySink reply, CancellationToken connectionClosed)
    {
        ArgumentNullException.ThrowIfNull(reply);
        IPeerPayload answer;
        try
        {
            FlushRequest flush = request.Read<FlushRequest>();
            if (!flush.CheckOnly)
            {
                await ApplyAsync(flush.HorizonUnixMs, connectionClosed);
            }

            answer = new FlushAck(flush.HorizonUnixMs);
        }
        catch (PeerProtocolException exception)
        {
            answer = ErrorMessage.Create(PeerErrorCode.MalformedPayload, exception.Message);
        }
        catch (OperationCanceledException) when (connectionClosed.IsCancellationRequested)
        {
            return;
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            logger.LogError(exception, "Applying a flush from {Peer} failed", request.Remote);
            answer = ErrorMessage.Create(PeerErrorCode.Internal, exception.Message);
        }

        reply.Reply(request.RequestId, answer);
    }

    /// <summary>Sends the flush to one member; null when it confirmed, else what went wrong.</summary>
    private async Task<string?> SendAsync(NodeId node, FlushRequest request, CancellationToken cancellationToken)
    {
        try
        {
            if (topology.ClientFor(node) is not { } client)
            {
                return $"{node} (no connection)";
            }

            TimeSpan timeout = request.CheckOnly ? requestTimeout : TimeSpan.FromTicks(Math.Max(requestTimeout.Ticks, ApplyTimeout.Ticks));
            (await client.SendAsync(request, timeout, cancellationToken)).Read<FlushAck>();
            return null;
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            return $"{node} ({exception.Message})";
        }
    }
}
