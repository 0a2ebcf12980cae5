using Dynamite.Cluster.Runtime;
using Dynamite.Cluster.Transport;
using Dynamite.Core.Gossip;
using Dynamite.Core.Membership;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Microsoft.Extensions.Logging;

namespace Dynamite.Cluster.Membership;

/// <summary>
/// How a node without a cluster finds one. Every <see cref="SeedInterval"/> until the membership has a ring it
/// asks each seed for its state: when one has a ring that already names this node, the node was wiped and
/// replaced, so it adopts the ring (and the membership makes it warm up before serving reads); when a seed has a
/// ring without it, it asks that seed to admit it (Joining); when no seed has a ring yet and every seed has
/// identified itself, the seeds and this node found the cluster with the deterministic initial claim (every
/// founder computes the same state). A seed list naming only this node founds a cluster of one. Also the admin
/// verb <see cref="JoinAsync"/>: a lone node joins the cluster of a given seed.
/// </summary>
public sealed class SeedJoiner : IAsyncDisposable
{
    public static readonly TimeSpan SeedInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>The wait once the membership has a ring: nothing is left to find, so the loop only looks again now and
    /// then (it wakes nobody twice a second for the node's whole life).</summary>
    public static readonly TimeSpan SettledInterval = TimeSpan.FromSeconds(30);

    /// <summary>One seed's answer may take this long before the attempt moves on (besides the request timeout).</summary>
    private static readonly TimeSpan SeedAttemptLimit = TimeSpan.FromSeconds(3);

    private readonly GossipMembership _membership;
    private readonly IReadOnlyList<string> _seeds;
    private readonly PeerConnectionPool _peers;
    private readonly TimeSpan _requestTimeout;
    private readonly int _partitionBits;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;

    public SeedJoiner(GossipMembership membership, IReadOnlyList<string> seeds, PeerConnectionPool peers, TimeSpan requestTimeout, int partitionBits, TimeProvider clock, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(membership);
        ArgumentNullException.ThrowIfNull(seeds);
        ArgumentNullException.ThrowIfNull(peers);
        _membership = membership;
        _seeds = seeds;
        _peers = peers;
        _requestTimeout = requestTimeout;
        _partitionBits = partitionBits;
        _clock = clock;
        _logger = logger;
        Worker = new BackgroundWorker("seeding", SeedInterval, StepAsync, clock, logger, stepAtStart: true);
    }

    public BackgroundWorker Worker { get; }

    /// <summary>Starts looking for seeds, unless the node resumed a cluster it already belongs to.</summary>
    public void Start()
    {
        if (_membership.State.Ring is null)
        {
            Worker.Start();
        }
    }

    /// <summary>
    /// Joins the cluster <paramref name="seedAddress"/> belongs to (the admin verb). Allowed while this node is alone:
    /// no ring yet, or a ring of one node; its own single-node ring is dropped for the cluster's.
    /// </summary>
    public async Task<ClusterState> JoinAsync(string seedAddress, CancellationToken cancellationToken)
    {
        NodeId self = _membership.Self;
        ClusterState current = _membership.State;
        int others = current.Members.Values.Count(m => m.Id != self && m.Status != MemberStatus.Removed);
        if (others > 0)
        {
            throw new InvalidOperationException($"{self} is already a member of a cluster of {others + 1} nodes; leave it first.");
        }

        IPeerClient client = _peers.ClientForAddress(seedAddress);
        MemberRecord mine = _membership.SelfRecord;
        var record = mine.WithStatus(MemberStatus.Joining, current.TryGetMember(self, out MemberRecord? known) ? known!.Incarnation + 1 : 0);
        PeerResponse response = await client.SendAsync(new JoinRequest(record), _requestTimeout, cancellationToken);
        ClusterState cluster = ClusterState.Read(response.Read<JoinReply>().EncodedState.Span);
        if (cluster.Ring is null)
        {
            throw new InvalidOperationException($"The seed {seedAddress} is not part of a cluster yet.");
        }

        return _membership.Replace(cluster, "joined through " + seedAddress);
    }

    public ValueTask DisposeAsync() => Worker.DisposeAsync();

    private async Task<TimeSpan> StepAsync(CancellationToken stopping)
    {
        if (_membership.State.Ring is not null)
        {
            return SettledInterval;
        }

        try
        {
            await SeedAttemptAsync(stopping);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !stopping.IsCancellationRequested)
        {
            _membership.SetNotReady(exception.Message);
            _logger.LogDebug("Seed attempt failed: {Reason}", exception.Message);
        }

        return _membership.State.Ring is null ? SeedInterval : SettledInterval;
    }

    /// <summary>One pass over the seeds: adopt or join a seed's cluster, or found one with the seeds when none has a ring.</summary>
    private async Task SeedAttemptAsync(CancellationToken stopping)
    {
        MemberRecord selfRecord = _membership.SelfRecord;
        NodeId self = selfRecord.Id;
        var founders = new List<MemberRecord> { selfRecord };
        var waiting = new List<string>();
        foreach (string address in _seeds)
        {
            if (address == selfRecord.Address)
            {
                continue;
            }

            IPeerClient client = _peers.ClientForAddress(address);
            ClusterState theirs;
            try
            {
                using var limit = new CancellationTokenSource(SeedAttemptLimit, _clock);
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stopping, limit.Token);
                PeerResponse response = await client.SendAsync(new GossipDigest(0, 0), _requestTimeout, attempt.Token);
                theirs = response.Type == PeerMessageType.GossipState
                    ? ClusterState.Read(response.Read<GossipState>().EncodedState.Span)
                    : ClusterState.Empty;
            }
            catch (PeerRefusedException exception)
            {
                waiting.Add($"{address} refused this node ({exception.Message})");
                continue;
            }
            catch (Exception exception) when (exception is PeerUnavailableException or TimeoutException or PeerRemoteException or FormatException
                                              or OperationCanceledException && !stopping.IsCancellationRequested)
            {
                waiting.Add($"{address} not reachable ({exception.Message})");
                continue;
            }

            if (_membership.State.Ring is not null)
            {
                // A pass waits on unreachable seeds for a while; meanwhile gossip may have given this node its ring,
                // or told it that it was removed. Joining now would undo that: a node that left (and is retiring)
                // would be admitted again as joining, and the cluster would wait for it for good.
                return;
            }

            if (theirs.Ring is not null)
            {
                if (theirs.TryGetMember(self, out MemberRecord? known) && known!.Status != MemberStatus.Removed)
                {
                    // This node's id is in the ring but it has no saved state: a wiped node coming back (the membership notices).
                    _membership.Apply(state => state.Merge(theirs));
                    _logger.LogWarning("Seed {Seed} knows {Node} as a member but this data directory is new", address, self);
                    return;
                }

                var joining = selfRecord.WithStatus(MemberStatus.Joining, known?.Incarnation + 1 ?? 0);
                PeerResponse reply = await client.SendAsync(new JoinRequest(joining), _requestTimeout, stopping);
                ClusterState admitted = ClusterState.Read(reply.Read<JoinReply>().EncodedState.Span);
                _membership.MarkFoundedOrJoined();
                _membership.Apply(state => state.Merge(admitted));
                _logger.LogInformation("Joined the cluster through seed {Seed}: {State}", address, _membership.State);
                return;
            }

            PeerIdentity identity = client.RemoteIdentity ?? throw new PeerUnavailableException($"{address} did not identify itself");
            founders.Add(new MemberRecord(new NodeDescriptor(new NodeId(identity.NodeId), identity.Datacenter, identity.Rack), address, MemberStatus.Up, 0, identity.ClientAddress));
        }

        if (waiting.Count > 0)
        {
            _membership.SetNotReady("waiting for seed(s): " + string.Join("; ", waiting));
            return;
        }

        if (founders.Select(f => f.Id).Distinct().Count() != founders.Count)
        {
            _membership.SetNotReady("two seeds (or a seed and this node) have the same node id: " + string.Join(", ", founders.Select(f => $"{f.Id}@{f.Address}")));
            return;
        }

        if (_membership.State.Ring is not null)
        {
            return;
        }

        ClusterState founded = ClusterState.Bootstrap(founders, _partitionBits);
        _membership.MarkFoundedOrJoined();
        _membership.Apply(state => state.Merge(founded));
        _logger.LogInformation("Founded the cluster with {Members}", string.Join(", ", founders.Select(f => f.Id)));
    }
}
