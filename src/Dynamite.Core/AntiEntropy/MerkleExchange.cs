using Dynamite.Core.Partitioning;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;

namespace Dynamite.Core.AntiEntropy;

/// <summary>
/// One Merkle tree comparison of one partition between the local tree and a remote replica's (Dynamo §4.7:
/// "if the hash values of the root of two trees are equal ... no synchronization; if not, ... the nodes
/// exchange the hash values of children and the process continues until it reaches the leaves"). A pure state
/// machine: <see cref="Start"/> asks for the root; each <see cref="OnRemoteNodes"/> compares a reply with the
/// local hashes and asks only for the children of nodes that differ (children of adjacent differing nodes are
/// adjacent, so they go in one request); when no request is outstanding the exchange is done and names the
/// differing segments, whose keys <see cref="SegmentDiff"/> then compares.
/// <code>
///   initiator                                  replica
///   Start()            ── level 0 [0,1) ──►
///                      ◄──── [R'] ─────────    R' ≠ R
///   OnRemoteNodes      ── level 1 [0,4) ──►
///                      ◄─ [a b c' d] ──────    only c differs
///   OnRemoteNodes      ── level 2 [32,48) ─►   c's 16 children
///   …                                          down to the segments: Done([s₁, s₂ …])
/// </code>
/// Identical replicas cost one request and one 8-byte hash; a single differing key costs about
/// fan-out × depth hashes. The local tree is read at reply time, so writes during an exchange may show up as
/// differences (repaired harmlessly: merging equal objects changes nothing) or hide one until the next round.
/// The runtime delivers each reply once, for a request this exchange issued; anything else is a protocol error
/// that fails the exchange (<see cref="IsFailed"/>).
/// </summary>
public sealed class MerkleExchange
{
    private readonly PartitionId _partition;

    private readonly PartitionMerkleTree _local;

    /// <summary>Requests sent and not yet answered, by (level, first index) → count. Empty after the last reply: done.</summary>
    private readonly Dictionary<(int Level, int FromIndex), int> _outstanding = [];

    /// <summary>Segments whose hashes differ, in the order found (sorted when done).</summary>
    private readonly List<int> _differingSegments = [];

    private bool _started;

    /// <summary>Set by a protocol error: the remote's answers can no longer be trusted, so the exchange ends with no result.</summary>
    private bool _failed;

    public MerkleExchange(PartitionId partition, PartitionMerkleTree local)
    {
        ArgumentNullException.ThrowIfNull(local);
        _partition = partition;
        _local = local;
    }

    public bool IsDone => _started && !_failed && _outstanding.Count == 0;

    /// <summary>True after a reply that did not answer an outstanding request; the runtime drops the exchange and retries later.</summary>
    public bool IsFailed => _failed;

    /// <summary>The differing segments in ascending order; complete only once <see cref="IsDone"/>.</summary>
    public IReadOnlyList<int> DifferingSegments => _differingSegments;

    public int RequestCount { get; private set; }

    /// <summary>Node hashes received from the remote replica.</summary>
    public long HashesReceived { get; private set; }

    /// <summary>Frame bytes (header and payload) of the requests this side sends.</summary>
    public long RequestBytes { get; private set; }

    /// <summary>Frame bytes of the replies the remote side sends back.</summary>
    public long ReplyBytes { get; private set; }

    /// <summary>Frame bytes of the segment key listings counted with <see cref="CountSegmentKeys"/>.</summary>
    public long SegmentKeyBytes { get; private set; }

    /// <summary>Everything this exchange put on the wire, both directions.</summary>
    public long TotalBytes => RequestBytes + ReplyBytes + SegmentKeyBytes;

    /// <summary>The first request: the remote root.</summary>
    public MerkleExchangeStep Start()
    {
        if (_started)
        {
            throw new InvalidOperationException("the exchange has already started");
        }

        _started = true;
        var requests = new List<MerkleLevelRequest>(1);
        Request(requests, 0, 0, 1);
        return new MerkleExchangeStep(requests, false, []);
    }

    /// <summary>
    /// The remote hashes of nodes [<paramref name="fromIndex"/>, +hashes.Length) of <paramref name="level"/>,
    /// answering an outstanding request. Returns the children to ask for next, or the result once done.
    /// </summary>
    public MerkleExchangeStep OnRemoteNodes(int level, int fromIndex, ReadOnlySpan<ulong> hashes)
    {
        if (!_started || _failed)
        {
            throw new InvalidOperationException(_failed ? "the exchange failed" : "the exchange has not started");
        }

        if (!_outstanding.Remove((level, fromIndex), out int expected))
        {
            _failed = true;
            throw new PeerProtocolException($"Merkle exchange of partition {_partition}: no request outstanding for level {level} from {fromIndex}");
        }

        if (hashes.Length != expected)
        {
            _failed = true;
            throw new PeerProtocolException($"Merkle exchange of partition {_partition}: asked for {expected} hashes of level {level}, got {hashes.Length}");
        }

        ReplyBytes += PeerFrameCodec.HeaderBytes + MerkleLevelReply.PayloadLengthFor(hashes.Length);
        HashesReceived += hashes.Length;

        var requests = new List<MerkleLevelRequest>();
        bool leaves = level == _local.LeafLevel;
        int runFrom = -1;
        int runCount = 0;
        for (int i = 0; i < hashes.Length; i++)
        {
            int index = fromIndex + i;
            if (_local.GetNode(level, index) == hashes[i])
            {
                continue;
            }

            if (leaves)
            {
                _differingSegments.Add(index);
                continue;
            }

            (int childFrom, int childCount) = _local.ChildRange(level, index);
            if (runCount > 0 && runFrom + runCount == childFrom && runCount + childCount <= PeerLimits.MaxMerkleHashes)
            {
                runCount += childCount;
            }
            else
            {
                if (runCount > 0)
                {
                    Request(requests, level + 1, runFrom, runCount);
                }

                runFrom = childFrom;
                runCount = childCount;
            }
        }

        if (runCount > 0)
        {
            Request(requests, level + 1, runFrom, runCount);
        }

        if (IsDone)
        {
            _differingSegments.Sort();
            return new MerkleExchangeStep(requests, true, _differingSegments);
        }

        return new MerkleExchangeStep(requests, false, []);
    }

    /// <summary>The key listings to ask for once done: one per differing segment.</summary>
    public IReadOnlyList<SegmentKeysRequest> SegmentRequests()
    {
        if (!IsDone)
        {
            throw new InvalidOperationException("the differing segments are known only once the exchange is done");
        }

        var requests = new List<SegmentKeysRequest>(_differingSegments.Count);
        foreach (int segment in _differingSegments)
        {
            requests.Add(new SegmentKeysRequest(_partition, _local.SegmentCount, segment));
        }

        return requests;
    }

    /// <summary>Adds one segment listing round trip to the byte count (the repair of what it finds is not counted: it moves objects, not metadata).</summary>
    public void CountSegmentKeys(SegmentKeysRequest request, SegmentKeysReply reply)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(reply);
        SegmentKeyBytes += (2 * PeerFrameCodec.HeaderBytes) + request.PayloadLength + reply.PayloadLength;
    }

    private void Request(List<MerkleLevelRequest> requests, int level, int fromIndex, int count)
    {
        var request = new MerkleLevelRequest(_partition, _local.SegmentCount, _local.FanOut, level, fromIndex, count);
        _outstanding.Add((level, fromIndex), count);
        RequestCount++;
        RequestBytes += PeerFrameCodec.HeaderBytes + request.PayloadLength;
        requests.Add(request);
    }
}
