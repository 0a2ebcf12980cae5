using System.Text;
using Dynamite.Core.AntiEntropy;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Dynamite.Core.Versioning;
using Xunit;

namespace Dynamite.Core.Tests.AntiEntropy;

public sealed class MerkleRootComparisonTests
{
    private const int PartitionBits = 8;
    private static readonly NodeId A = new("node-a");
    private static readonly NodeId B = new("node-b");

    [Fact]
    public void Requests_ManyPartitionsUnorderedWithDuplicates_AscendingBatchesOfAtMostTheBatchSizeEachOnce()
    {
        int[] values = [.. Enumerable.Range(0, 2500).Reverse(), 7, 7, 2499];

        IReadOnlyList<MerkleRootsRequest> requests = MerkleRootComparison.Requests(values.Select(v => new PartitionId(v)), 1024, 16, batchSize: 1024);

        Assert.Equal(new[] { 1024, 1024, 452 }, requests.Select(r => r.Partitions.Count));
        Assert.Equal(Enumerable.Range(0, 2500), requests.SelectMany(r => r.Partitions).Select(p => p.Value));
        Assert.All(requests, r => Assert.Equal((1024, 16), (r.SegmentCount, r.FanOut)));
    }

    [Fact]
    public void Requests_NoPartitions_NoRequest()
    {
        Assert.Empty(MerkleRootComparison.Requests([], 1024, 16));
    }

    [Fact]
    public void Requests_BatchSizeAboveTheWireLimit_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleRootComparison.Requests([new PartitionId(0)], 1024, 16, PeerLimits.MaxMerkleRoots + 1));
    }

    [Fact]
    public void Differing_ReplyWithTooFewRoots_ThrowsPeerProtocolException()
    {
        var request = new MerkleRootsRequest(1024, 16, [new PartitionId(1), new PartitionId(2)]);

        var exception = Assert.Throws<PeerProtocolException>(() => MerkleRootComparison.Differing(request, [5, 6], new MerkleRootsReply(new ulong[] { 5 })));

        Assert.Contains("asked for 2 partitions, got 1 roots", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Round_IdenticalReplicas_OneRequestAndNoPartitionToExchange()
    {
        (ReplicaModel local, ReplicaModel remote) = Replicas(5000);

        (List<int> differing, int requests) = CompareRoots(local, remote, AllPartitions(local), MerkleRootComparison.DefaultBatchSize);

        Assert.Empty(differing);
        Assert.Equal(1, requests);
    }

    [Theory]
    [InlineData(MerkleRootComparison.DefaultBatchSize)]
    [InlineData(10)]
    public void Round_ReplicasDifferingInAFewPartitions_ExchangesOnlyThoseAndConverges(int batchSize)
    {
        (ReplicaModel local, ReplicaModel remote) = Replicas(20_000);
        var partitioner = new KeyPartitioner(PartitionBits);
        var expected = new SortedSet<int>();

        // A key only the remote has, one only the local has, and a newer version on the remote: three partitions at most.
        foreach ((string key, Action change) in new (string, Action)[]
        {
            ("fresh", () => remote.Put("fresh", Write(B, "x"u8.ToArray()))),
            ("key:17", () => remote.Forget("key:17")),
            ("key:4242", () => remote.Put("key:4242", remote.Get("key:4242").Update(remote.Get("key:4242").Context, B, "y"u8.ToArray(), 2_000, 0))),
        })
        {
            change();
            expected.Add(partitioner.PartitionOf(Encoding.UTF8.GetBytes(key)).Value);
        }

        (List<int> differing, int requests) = CompareRoots(local, remote, AllPartitions(local), batchSize);

        Assert.Equal(expected, differing);
        Assert.Equal((local.PartitionCount + batchSize - 1) / batchSize, requests);

        // Only the differing partitions go on to a tree exchange; repairing what they find makes the replicas agree.
        var repaired = new List<string>();
        foreach (int partition in differing)
        {
            MerkleExchange exchange = ExchangeDriver.Run(new PartitionId(partition), local.Tree(partition), remote.Tree(partition));
            foreach (SegmentKeysRequest request in exchange.SegmentRequests())
            {
                SegmentDiff diff = SegmentDiff.Compute(local.SegmentKeys(partition, request.Segment), remote.SegmentKeys(partition, request.Segment));
                repaired.AddRange(diff.KeysToRepair.Select(k => Encoding.UTF8.GetString(k)));
            }
        }

        foreach (string key in repaired)
        {
            VersionedObject merged = local.Get(key).Merge(remote.Get(key));
            local.Put(key, merged);
            remote.Put(key, merged);
        }

        Assert.Equal(new[] { "fresh", "key:17", "key:4242" }, repaired.Order(StringComparer.Ordinal));
        Assert.Empty(CompareRoots(local, remote, AllPartitions(local), batchSize).Differing);
        Assert.Equal(local.Objects.Keys.Order(StringComparer.Ordinal), remote.Objects.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Round_OnlySomePartitionsShared_AsksAndReportsOnlyThose()
    {
        (ReplicaModel local, ReplicaModel remote) = Replicas(2000);
        remote.Put("fresh", Write(B, "x"u8.ToArray()));
        int changed = new KeyPartitioner(PartitionBits).PartitionOf("fresh"u8).Value;
        PartitionId[] others = [.. AllPartitions(local).Where(p => p.Value != changed && p.Value % 3 == 0)];

        Assert.Empty(CompareRoots(local, remote, others, MerkleRootComparison.DefaultBatchSize).Differing);
        Assert.Equal([changed], CompareRoots(local, remote, [.. others, new PartitionId(changed)], MerkleRootComparison.DefaultBatchSize).Differing);
    }

    /// <summary>
    /// The root comparison as the runtime runs it, every request and reply through its wire encoding; the remote side
    /// answers as the replica's request handler does, the local roots are read after each reply.
    /// </summary>
    private static (List<int> Differing, int Requests) CompareRoots(ReplicaModel local, ReplicaModel remote, IEnumerable<PartitionId> partitions, int batchSize)
    {
        var differing = new List<int>();
        int requests = 0;
        foreach (MerkleRootsRequest sent in MerkleRootComparison.Requests(partitions, PartitionMerkleTree.DefaultSegmentCount, PartitionMerkleTree.DefaultFanOut, batchSize))
        {
            requests++;
            var received = (MerkleRootsRequest)PeerMessages.Read(PeerMessageType.MerkleRootsRequest, Wire.Encode(sent));
            ulong[] remoteRoots = [.. received.Partitions.Select(p => remote.Tree(p.Value).Root)];
            var reply = (MerkleRootsReply)PeerMessages.Read(PeerMessageType.MerkleRootsReply, Wire.Encode(new MerkleRootsReply(remoteRoots)));
            ulong[] localRoots = [.. sent.Partitions.Select(p => local.Tree(p.Value).Root)];
            differing.AddRange(MerkleRootComparison.Differing(sent, localRoots, reply).Select(p => p.Value));
        }

        return (differing, requests);
    }

    private static IEnumerable<PartitionId> AllPartitions(ReplicaModel replica) => Enumerable.Range(0, replica.PartitionCount).Select(p => new PartitionId(p));

    private static (ReplicaModel Local, ReplicaModel Remote) Replicas(int keys)
    {
        var local = new ReplicaModel(PartitionBits);
        var remote = new ReplicaModel(PartitionBits);
        for (int i = 0; i < keys; i++)
        {
            VersionedObject value = Write(A, BitConverter.GetBytes(i));
            local.Put("key:" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), value);
            remote.Put("key:" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), value);
        }

        return (local, remote);
    }

    private static VersionedObject Write(NodeId node, byte[] value) => VersionedObject.Empty.Update(VersionVector.Empty, node, value, 1_000, 0);
}
