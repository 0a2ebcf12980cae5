using Dynamite.Core.Gossip;
using Dynamite.Core.Membership;
using Dynamite.Core.Peer;

namespace Dynamite.Core.Tests.Gossip;

/// <summary>
/// A deterministic in-process gossip network. Rounds are synchronous and conservative: every
/// exchange in a round runs against the states as they were when the round began (as if all nodes
/// gossiped at once), and its outcomes merge into the states of the next round. Exchanges use the
/// real messages, encoded and decoded, so bytes on the wire are counted too.
/// </summary>
internal sealed class GossipSimulation
{
    // Invariant: _ids[i] is the node whose state is _states[i].
    private readonly List<NodeId> _ids = [];
    private readonly List<ClusterState> _states = [];
    private readonly Random _random;
    private readonly int _fanOut;

    public GossipSimulation(int seed, int fanOut = GossipOptions.DefaultFanOut)
    {
        _random = new Random(seed);
        _fanOut = fanOut;
    }

    public long BytesSent { get; private set; }

    public int Count => _states.Count;

    public ClusterState StateOf(int node) => _states[node];

    public int Add(NodeId id, ClusterState state)
    {
        _ids.Add(id);
        _states.Add(state);
        return _states.Count - 1;
    }

    public void Set(int node, ClusterState state) => _states[node] = state;

    public bool Converged()
    {
        for (int i = 1; i < _states.Count; i++)
        {
            if (!_states[i].Equals(_states[0]))
            {
                return false;
            }
        }

        return true;
    }

    public void Round()
    {
        ClusterState[] next = [.. _states];
        var index = new Dictionary<NodeId, int>();
        for (int i = 0; i < _ids.Count; i++)
        {
            index[_ids[i]] = i;
        }

        for (int i = 0; i < _states.Count; i++)
        {
            foreach (GossipSend send in GossipRound.Start(_states[i], _ids[i], _random, _fanOut))
            {
                if (!index.TryGetValue(send.To, out int j))
                {
                    continue;
                }

                (ClusterState a, ClusterState b) = Exchange(_states[i], _states[j], send.Message);
                next[i] = next[i].Merge(a);
                next[j] = next[j].Merge(b);
            }
        }

        _states.Clear();
        _states.AddRange(next);
    }

    /// <summary>Runs rounds until every node holds one state; returns how many it took.</summary>
    public int RoundsToConverge(int limit)
    {
        for (int round = 1; round <= limit; round++)
        {
            Round();
            if (Converged())
            {
                return round;
            }
        }

        throw new InvalidOperationException($"No convergence in {limit} rounds.");
    }

    private (ClusterState Initiator, ClusterState Peer) Exchange(ClusterState initiator, ClusterState peer, IPeerPayload digest)
    {
        IPeerPayload? message = digest;
        bool toPeer = true;
        while (message is not null)
        {
            BytesSent += message.PayloadLength;
            IPeerPayload onTheWire = RoundTrip(message);
            GossipStep step = GossipRound.Receive(toPeer ? peer : initiator, onTheWire);
            if (toPeer)
            {
                peer = step.State;
            }
            else
            {
                initiator = step.State;
            }

            message = step.Reply;
            toPeer = !toPeer;
        }

        return (initiator, peer);
    }

    private static IPeerPayload RoundTrip(IPeerPayload message)
    {
        var writer = new System.Buffers.ArrayBufferWriter<byte>(message.PayloadLength);
        message.Write(writer);
        return PeerMessages.Read(message.Type, writer.WrittenSpan);
    }
}
