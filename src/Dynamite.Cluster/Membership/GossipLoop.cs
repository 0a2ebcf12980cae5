using Dynamite.Cluster.Runtime;
using Dynamite.Cluster.Transport;
using Dynamite.Core.Gossip;
using Dynamite.Core.Membership;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Microsoft.Extensions.Logging;

namespace Dynamite.Cluster.Membership;

/// <summary>
/// Push-pull gossip rounds (the core's <see cref="GossipRound"/>): every <see cref="GossipOptions.Interval"/> the
/// node sends its state's digest to k random members; a peer whose state differs answers with its state, which is
/// merged, and what the peer lacked is pushed back. The peers are drawn from an injected <see cref="Random"/>, so
/// the simulation replays the same rounds from its seed.
/// </summary>
public sealed class GossipLoop : IAsyncDisposable
{
    private readonly GossipMembership _membership;
    private readonly PeerConnectionPool _peers;
    private readonly GossipOptions _options;
    private readonly TimeSpan _requestTimeout;
    private readonly Random _random;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;

    public GossipLoop(GossipMembership membership, PeerConnectionPool peers, GossipOptions options, TimeSpan requestTimeout, Random random, TimeProvider clock, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(membership);
        ArgumentNullException.ThrowIfNull(peers);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(random);
        _membership = membership;
        _peers = peers;
        _options = options;
        _requestTimeout = requestTimeout;
        _random = random;
        _clock = clock;
        _logger = logger;
        Worker = new BackgroundWorker("gossip", options.Interval, RoundAsync, clock, logger);
    }

    /// <summary>How long a node that left keeps telling the members that have not heard of it yet (<see cref="AnnounceDepartureAsync"/>).</summary>
    public static readonly TimeSpan DepartureAnnouncementLimit = TimeSpan.FromMinutes(5);

    public BackgroundWorker Worker { get; }

    /// <summary>Rounds run so far (a round is skipped while the node has no cluster).</summary>
    public long Rounds => Worker.Rounds;

    public void Start() => Worker.Start();

    public ValueTask DisposeAsync() => Worker.DisposeAsync();

    /// <summary>
    /// Once this node has left (its own record is Removed): pushes its state to every member that is not removed until
    /// each has taken it, every gossip interval, for at most <paramref name="limit"/>; returns the members not reached.
    /// A departed node that simply stopped could take the news of its departure with it: when it learned it from the
    /// only other member that knew (the claimant on its side of a partition, which then crashed), the others would keep
    /// it as a member forever and no plan could complete (the membership simulation found that schedule). riak_core's
    /// exiting node likewise waits until its departure has been gossiped before it stops.
    /// </summary>
    public async Task<IReadOnlyList<NodeId>> AnnounceDepartureAsync(TimeSpan limit, CancellationToken stopping)
    {
        long started = _clock.GetTimestamp();
        var informed = new HashSet<NodeId>();
        while (true)
        {
            ClusterState state = _membership.State;
            List<NodeId> pending = [.. state.Members.Values
                .Where(member => member.Id != _membership.Self && member.Status != MemberStatus.Removed && !informed.Contains(member.Id))
                .Select(member => member.Id)];
            if (pending.Count == 0 || _clock.GetElapsedTime(started) >= limit || stopping.IsCancellationRequested)
            {
                return pending;
            }

            var push = new GossipState(state.ToBytes());
            bool[] reached = await Task.WhenAll(pending.Select(node => TryPushAsync(node, push, stopping)));
            for (int i = 0; i < pending.Count; i++)
            {
                if (reached[i])
                {
                    informed.Add(pending[i]);
                }
            }

            if (reached.Contains(false))
            {
                try
                {
                    await Task.Delay(_options.Interval, _clock, stopping);
                }
                catch (OperationCanceledException)
                {
                    return [.. pending.Where(node => !informed.Contains(node))];
                }
            }
        }
    }

    /// <summary>Sends this node's whole state to <paramref name="node"/>; true once the peer took it (any reply: it merged it).</summary>
    private async Task<bool> TryPushAsync(NodeId node, GossipState push, CancellationToken stopping)
    {
        if (_peers.ClientFor(node) is not { } client)
        {
            return false;
        }

        try
        {
            await client.SendAsync(push, _requestTimeout, stopping);
            return true;
        }
        catch (Exception exception) when (exception is PeerUnavailableException or TimeoutException or PeerRemoteException or PeerRefusedException
                                          or OperationCanceledException && !stopping.IsCancellationRequested)
        {
            _logger.LogDebug("Announcing the departure to {Peer} failed: {Reason}", node, exception.Message);
            return false;
        }
    }

    private async Task RoundAsync(CancellationToken stopping)
    {
        ClusterState state = _membership.State;
        if (state.Ring is null)
        {
            return;
        }

        IReadOnlyList<GossipSend> sends;
        lock (_random)
        {
            sends = GossipRound.Start(state, _membership.Self, _random, _options.FanOut);
        }

        await Task.WhenAll(sends.Select(send => ExchangeAsync(send, stopping)));
    }

    /// <summary>One push-pull exchange: digest out; if the peer answers with its state, merge it and push back what it lacked.</summary>
    private async Task ExchangeAsync(GossipSend send, CancellationToken stopping)
    {
        if (_peers.ClientFor(send.To) is not { } client)
        {
            return;
        }

        try
        {
            PeerResponse response = await client.SendAsync(send.Message, _requestTimeout, stopping);
            if (response.Type != PeerMessageType.GossipState)
            {
                return;
            }

            GossipStep step = default!;
            _membership.Apply(state =>
            {
                step = GossipRound.Receive(state, response.Read<GossipState>());
                return step.State;
            });
            if (step.Reply is { } push)
            {
                await client.SendAsync(push, _requestTimeout, stopping);
            }
        }
        catch (Exception exception) when (exception is PeerUnavailableException or TimeoutException or PeerRemoteException or PeerRefusedException or FormatException
                                          or OperationCanceledException && !stopping.IsCancellationRequested)
        {
            _logger.LogDebug("Gossip with {Peer} failed: {Reason}", send.To, exception.Message);
        }
    }
}
