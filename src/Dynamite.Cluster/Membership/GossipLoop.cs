using Dynamite.Cluster.Runtime;
using Dynamite.Cluster.Transport;
using Dynamite.Core.Gossip;
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
        _logger = logger;
        Worker = new BackgroundWorker("gossip", options.Interval, RoundAsync, clock, logger);
    }

    public BackgroundWorker Worker { get; }

    /// <summary>Rounds run so far (a round is skipped while the node has no cluster).</summary>
    public long Rounds => Worker.Rounds;

    public void Start() => Worker.Start();

    public ValueTask DisposeAsync() => Worker.DisposeAsync();

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
