using Dynamite.Core.Membership;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;

namespace Dynamite.Core.Gossip;

/// <summary>
/// One node's side of anti-entropy gossip (Demers et al., "Epidemic algorithms for replicated
/// database maintenance", push-pull; riak_core_gossip): every interval a node sends its digest to k
/// random live peers; a peer whose digest differs answers with its full state; the initiator merges
/// and, if the merge holds something the peer lacked, sends the merged state back. States are
/// CRDTs, so lost, duplicated or reordered messages only slow convergence, never break it.
/// Pure: the random source and the state come in, messages and the new state go out.
/// <code>
///   A                         B
///   |--- GossipDigest(dA) ---->|   equal to dB: done (17 bytes)
///   |&lt;-- GossipState(sB) ------|   otherwise B sends its state
///   |   A := A ⊔ sB            |
///   |--- GossipState(A) ------>|   only if A ≠ sB; B := B ⊔ A = A, and B's merge equals A: no reply
/// </code>
/// </summary>
public static class GossipRound
{
    /// <summary>
    /// The digests to send this round: up to <paramref name="fanOut"/> distinct peers, chosen
    /// uniformly among members other than <paramref name="self"/> that are neither Down nor Removed,
    /// plus one Down member when there is any (memberlist's gossip to the dead): a node that came
    /// back, or two sides of a healed partition that marked each other Down, reconnect through it,
    /// and the Down node then refutes with <see cref="ClusterTransitions.MarkUp"/>.
    /// </summary>
    public static IReadOnlyList<GossipSend> Start(ClusterState state, NodeId self, Random random, int fanOut = GossipOptions.DefaultFanOut)
    {
        ArgumentNullException.ThrowIfNull(state);
        var digest = new GossipDigest(state.Digest, state.RingVersion);
        IReadOnlyList<NodeId> peers = PickPeers(state, self, random, fanOut);
        var sends = new GossipSend[peers.Count];
        for (int i = 0; i < peers.Count; i++)
        {
            sends[i] = new GossipSend(peers[i], digest);
        }

        return sends;
    }

    /// <summary>A partial Fisher–Yates shuffle of the live peers (k distinct in O(N)), then one Down member drawn uniformly, if any.</summary>
    public static IReadOnlyList<NodeId> PickPeers(ClusterState state, NodeId self, Random random, int fanOut)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fanOut);
        var live = new List<NodeId>(state.Members.Count);
        var down = new List<NodeId>();
        foreach (MemberRecord member in state.Members.Values)
        {
            if (member.Id == self || member.Status == MemberStatus.Removed)
            {
                continue;
            }

            (member.Status == MemberStatus.Down ? down : live).Add(member.Id);
        }

        int count = Math.Min(fanOut, live.Count);
        for (int i = 0; i < count; i++)
        {
            int j = random.Next(i, live.Count);
            (live[i], live[j]) = (live[j], live[i]);
        }

        List<NodeId> peers = live.GetRange(0, count);
        if (down.Count > 0)
        {
            peers.Add(down[random.Next(down.Count)]);
        }

        return peers;
    }

    /// <summary>
    /// Handles one gossip or join message against the local state. Throws
    /// <see cref="FormatException"/> for an undecodable state and <see cref="ArgumentException"/>
    /// for a message that is not a gossip message.
    /// </summary>
    public static GossipStep Receive(ClusterState local, IPeerPayload message)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(message);
        switch (message)
        {
            case GossipDigest digest:
                return new GossipStep(local, digest.Digest == local.Digest ? null : new GossipState(local.ToBytes()));
            case GossipState incoming:
            {
                ClusterState received = ClusterState.Read(incoming.EncodedState.Span);
                ClusterState merged = local.Merge(received);
                return new GossipStep(merged, merged.Equals(received) ? null : new GossipState(merged.ToBytes()));
            }

            case JoinRequest join:
            {
                ClusterState admitted = ClusterTransitions.Join(local, join.Member);
                return new GossipStep(admitted, new JoinReply(admitted.ToBytes()));
            }

            case JoinReply reply:
                return new GossipStep(local.Merge(ClusterState.Read(reply.EncodedState.Span)), null);
            default:
                throw new ArgumentException($"{message.Type} is not a gossip message.", nameof(message));
        }
    }
}
