using Dynamite.Core.Peer.Messages;

namespace Dynamite.Core.Peer;

/// <summary>Decodes any known message by its type, for code that handles messages generically (logging, tests, tools).</summary>
public static class PeerMessages
{
    /// <summary>
    /// The requests a node's services answer, each through exactly one owner (the runtime's peer request router
    /// checks that at start). The handshake and <see cref="PeerMessageType.Ping"/> are the transport's own; every
    /// other type is a reply.
    /// </summary>
    public static readonly IReadOnlyList<PeerMessageType> ServiceRequests =
    [
        PeerMessageType.ReplicaGet,
        PeerMessageType.ReplicaPut,
        PeerMessageType.HintedPut,
        PeerMessageType.ReplicaCount,
        PeerMessageType.ReplicaDelta,
        PeerMessageType.ReplicaBatch,
        PeerMessageType.HintedDelta,
        PeerMessageType.ReplicaReadElements,
        PeerMessageType.ForwardCommand,
        PeerMessageType.PublishBatch,
        PeerMessageType.FlushRequest,
        PeerMessageType.CoordinatePut,
        PeerMessageType.MerkleLevelRequest,
        PeerMessageType.SegmentKeysRequest,
        PeerMessageType.TombstoneDigestRequest,
        PeerMessageType.CollectTombstones,
        PeerMessageType.MerkleRootsRequest,
        PeerMessageType.GossipDigest,
        PeerMessageType.GossipState,
        PeerMessageType.JoinRequest,
    ];

    /// <summary>Throws <see cref="PeerProtocolException"/> for an unknown type or a malformed payload.</summary>
    public static IPeerPayload Read(PeerMessageType type, ReadOnlySpan<byte> payload) => type switch
    {
        PeerMessageType.Hello => Hello.Read(payload),
        PeerMessageType.HelloChallenge => HelloChallenge.Read(payload),
        PeerMessageType.HelloProof => HelloProof.Read(payload),
        PeerMessageType.Welcome => Welcome.Read(payload),
        PeerMessageType.Refused => Refused.Read(payload),
        PeerMessageType.Ping => Ping.Read(payload),
        PeerMessageType.Pong => Pong.Read(payload),
        PeerMessageType.ReplicaGet => ReplicaGet.Read(payload),
        PeerMessageType.ReplicaGetReply => ReplicaGetReply.Read(payload),
        PeerMessageType.ReplicaPut => ReplicaPut.Read(payload),
        PeerMessageType.ReplicaPutAck => ReplicaPutAck.Read(payload),
        PeerMessageType.HintedPut => HintedPut.Read(payload),
        PeerMessageType.ReplicaCount => ReplicaCount.Read(payload),
        PeerMessageType.ReplicaCountReply => ReplicaCountReply.Read(payload),
        PeerMessageType.CoordinatePut => CoordinatePut.Read(payload),
        PeerMessageType.CoordinatePutReply => CoordinatePutReply.Read(payload),
        PeerMessageType.Error => ErrorMessage.Read(payload),
        PeerMessageType.MerkleLevelRequest => MerkleLevelRequest.Read(payload),
        PeerMessageType.MerkleLevelReply => MerkleLevelReply.Read(payload),
        PeerMessageType.SegmentKeysRequest => SegmentKeysRequest.Read(payload),
        PeerMessageType.SegmentKeysReply => SegmentKeysReply.Read(payload),
        PeerMessageType.TombstoneDigestRequest => TombstoneDigestRequest.Read(payload),
        PeerMessageType.TombstoneDigestReply => TombstoneDigestReply.Read(payload),
        PeerMessageType.CollectTombstones => CollectTombstones.Read(payload),
        PeerMessageType.CollectTombstonesAck => CollectTombstonesAck.Read(payload),
        PeerMessageType.MerkleRootsRequest => MerkleRootsRequest.Read(payload),
        PeerMessageType.MerkleRootsReply => MerkleRootsReply.Read(payload),
        PeerMessageType.GossipDigest => GossipDigest.Read(payload),
        PeerMessageType.GossipState => GossipState.Read(payload),
        PeerMessageType.JoinRequest => JoinRequest.Read(payload),
        PeerMessageType.JoinReply => JoinReply.Read(payload),
        PeerMessageType.ReplicaDelta => ReplicaDelta.Read(payload),
        PeerMessageType.FlushRequest => FlushRequest.Read(payload),
        PeerMessageType.FlushAck => FlushAck.Read(payload),
        PeerMessageType.HintedDelta => HintedDelta.Read(payload),
        PeerMessageType.ReplicaReadElements => ReplicaReadElements.Read(payload),
        PeerMessageType.ReplicaReadElementsReply => ReplicaReadElementsReply.Read(payload),
        PeerMessageType.ForwardCommand => ForwardCommand.Read(payload),
        PeerMessageType.ForwardCommandReply => ForwardCommandReply.Read(payload),
        PeerMessageType.PublishBatch => PublishBatch.Read(payload),
        PeerMessageType.PublishBatchAck => PublishBatchAck.Read(payload),
        PeerMessageType.ReplicaBatch => ReplicaBatch.Read(payload),
        _ => throw new PeerProtocolException($"unknown peer message type {(byte)type}"),
    };
}
