namespace Dynamite.Core.Peer;

/// <summary>
/// The one-byte message type of a peer frame. Append-only: a value, once released, never changes meaning or
/// number (nodes of different versions share a cluster during a rolling upgrade). PeerMessageTypeTests pins
/// every value. Deletes have no type of their own: a delete is a put of a tombstone.
/// </summary>
public enum PeerMessageType : byte
{
    /// <summary>Client → server: first frame of the handshake (cluster name, identity, client nonce).</summary>
    Hello = 1,

    /// <summary>Server → client: the server's nonce and identity.</summary>
    HelloChallenge = 2,

    /// <summary>Client → server: the client's proof that it holds the cluster secret.</summary>
    HelloProof = 3,

    /// <summary>Server → client: accepted; carries the server's own proof.</summary>
    Welcome = 4,

    /// <summary>Server → client: the handshake failed; carries the reason; the connection closes.</summary>
    Refused = 5,

    Ping = 10,
    Pong = 11,

    ReplicaGet = 20,
    ReplicaGetReply = 21,
    ReplicaPut = 22,
    ReplicaPutAck = 23,

    /// <summary>A put stored for another (unreachable) node: carries the intended node id (hinted handoff).</summary>
    HintedPut = 24,

    ReplicaCount = 26,
    ReplicaCountReply = 27,

    /// <summary>A write forwarded by a node that holds no replica of the key to one that does, which coordinates it.</summary>
    CoordinatePut = 28,

    /// <summary>The outcome of a <see cref="CoordinatePut"/>: stored at the quorum, or why not.</summary>
    CoordinatePutReply = 29,

    /// <summary>The reply to a request that could not be served (unknown type, malformed payload, failure).</summary>
    Error = 30,

    /// <summary>Anti-entropy: ask a replica for consecutive node hashes of one level of its partition's Merkle tree.</summary>
    MerkleLevelRequest = 40,

    /// <summary>The requested hashes, in index order.</summary>
    MerkleLevelReply = 41,

    /// <summary>Anti-entropy: ask a replica for the keys and key digests of one differing segment.</summary>
    SegmentKeysRequest = 42,

    /// <summary>The (key, key digest) pairs of the segment.</summary>
    SegmentKeysReply = 43,

    /// <summary>Tombstone collection: ask a replica for the key digest of each of a list of keys.</summary>
    TombstoneDigestRequest = 44,

    /// <summary>The key digests, in request order; 0 for an absent key.</summary>
    TombstoneDigestReply = 45,

    /// <summary>Tombstone collection: delete each (key, digest) whose stored object still has that digest.</summary>
    CollectTombstones = 46,

    /// <summary>How many of the keys the replica removed.</summary>
    CollectTombstonesAck = 47,

    /// <summary>Anti-entropy: ask a replica for the Merkle roots of many partitions in one round trip.</summary>
    MerkleRootsRequest = 48,

    /// <summary>The requested roots, in request order.</summary>
    MerkleRootsReply = 49,

    /// <summary>Gossip: the digest (XXH64) of the sender's cluster state and its ring version.</summary>
    GossipDigest = 50,

    /// <summary>Gossip: a full encoded cluster state, sent when digests differ.</summary>
    GossipState = 51,

    /// <summary>New node → seed: the new member's record.</summary>
    JoinRequest = 52,

    /// <summary>Seed → new node: the whole cluster state after admitting it.</summary>
    JoinReply = 53,

    /// <summary>Coordinator → replica: join a typed key's change (a key delta); answered by <see cref="ReplicaPutAck"/>.</summary>
    ReplicaDelta = 60,

    /// <summary>A FLUSHALL's coordinator → every member: delete every key, drop writes stamped at or before the horizon.</summary>
    FlushRequest = 61,

    FlushAck = 62,

    /// <summary>Coordinator → fallback replica: keep a typed key's change as a hint for an unreachable primary; answered by <see cref="ReplicaPutAck"/>.</summary>
    HintedDelta = 63,

    /// <summary>Coordinator → replica: read a typed key's record and selected elements; answered by <see cref="ReplicaReadElementsReply"/>.</summary>
    ReplicaReadElements = 64,

    ReplicaReadElementsReply = 65,

    /// <summary>A node that does not coordinate a key's writes → a primary: run this client command; answered by <see cref="ForwardCommandReply"/>.</summary>
    ForwardCommand = 66,

    ForwardCommandReply = 67,

    /// <summary>A node → every other member: messages its clients published (PUBLISH, SPUBLISH), for the subscribers there.</summary>
    PublishBatch = 68,

    /// <summary>How many of the batch's messages reached a subscriber on the receiving node.</summary>
    PublishBatchAck = 69,

    /// <summary>Coordinator → replica: one transaction's changes to keys of one partition, applied in one storage operation; answered by <see cref="ReplicaPutAck"/>.</summary>
    ReplicaBatch = 70,
}
