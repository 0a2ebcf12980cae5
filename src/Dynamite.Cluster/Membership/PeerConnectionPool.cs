using System.Collections.Concurrent;
using Dynamite.Cluster.Transport;
using Dynamite.Core.Gossip;
using Dynamite.Core.Membership;
using Dynamite.Core.Peer.Messages;

namespace Dynamite.Cluster.Membership;

/// <summary>
/// One client per peer address (seeds and members alike), made on first use by the <see cref="IPeerConnector"/>,
/// and the client of each live member by node id, rebuilt from every cluster state so a replica request finds its
/// connection with one dictionary lookup. The client of a member that is removed is closed, unless a seed address
/// still needs it.
/// Thread-safety: lookups are lock-free (an immutable dictionary behind a volatile field); updates are serialized
/// by the membership's state lock, the pool's caller.
/// </summary>
public sealed class PeerConnectionPool : IAsyncDisposable
{
    private readonly IPeerConnector _connector;
    private readonly NodeId _self;
    private readonly ConcurrentDictionary<string, IPeerClient> _byAddress = new(StringComparer.Ordinal);
    private volatile Dictionary<NodeId, IPeerClient> _byNode = [];
    private long _pingSequence;
    private int _disposed;

    public PeerConnectionPool(IPeerConnector connector, NodeId self)
    {
        ArgumentNullException.ThrowIfNull(connector);
        _connector = connector;
        _self = self;
    }

    /// <summary>The client of a live member; null for this node, strangers and removed members (nothing is sent to those).</summary>
    public IPeerClient? ClientFor(NodeId node) => _byNode.TryGetValue(node, out IPeerClient? client) ? client : null;

    /// <summary>The client for an address (a seed, or a member), made on first use.</summary>
    public IPeerClient ClientForAddress(string address)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return _byAddress.TryGetValue(address, out IPeerClient? client) ? client : _byAddress.GetOrAdd(address, _connector.Connect);
    }

    /// <summary>
    /// Points every live member of <paramref name="state"/> at its address's client and closes the clients of
    /// members that were removed (a removed node is sent nothing more). Call under the membership's state lock.
    /// </summary>
    public void Track(ClusterState state, IReadOnlyCollection<string> keepAddresses)
    {
        ArgumentNullException.ThrowIfNull(state);
        var clients = new Dictionary<NodeId, IPeerClient>(state.Members.Count);
        var removedAddresses = new List<string>();
        foreach (MemberRecord member in state.Members.Values)
        {
            if (member.Id == _self)
            {
                continue;
            }

            if (member.Status == MemberStatus.Removed)
            {
                removedAddresses.Add(member.Address);
            }
            else
            {
                clients[member.Id] = ClientForAddress(member.Address);
            }
        }

        _byNode = clients;
        foreach (string address in removedAddresses)
        {
            bool stillUsed = keepAddresses.Contains(address) || clients.Values.Any(c => ReferenceEquals(c, _byAddress.GetValueOrDefault(address)));
            if (!stillUsed && _byAddress.TryRemove(address, out IPeerClient? closed) && closed is IAsyncDisposable disposable)
            {
                // Closing waits for the connection's loops; nothing here should wait for that.
                _ = disposable.DisposeAsync().AsTask();
            }
        }
    }

    /// <summary>The failure detector's probe: true when the member answered the ping with its sequence number.</summary>
    public async Task<bool> PingAsync(NodeId node, TimeSpan timeout, CancellationToken cancellationToken)
    {
        IPeerClient client = ClientFor(node) ?? throw new InvalidOperationException($"unknown peer {node}");
        ulong sequence = (ulong)Interlocked.Increment(ref _pingSequence);
        PeerResponse response = await client.SendAsync(new Ping(sequence), timeout, cancellationToken);
        return response.Read<Pong>().Sequence == sequence;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (IPeerClient client in _byAddress.Values)
        {
            if (client is IAsyncDisposable disposable)
            {
                await disposable.DisposeAsync();
            }
        }

        _byAddress.Clear();
    }
}
