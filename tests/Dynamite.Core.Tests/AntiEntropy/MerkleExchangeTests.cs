using System.Text;
using Dynamite.Core.AntiEntropy;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Dynamite.Core.Versioning;
using FsCheck.Xunit;
using Xunit;
using Xunit.Abstractions;

namespace Dynamite.Core.Tests.AntiEntropy;

public sealed class MerkleExchangeTests
{
    private const int PartitionBits = 8;
    private const int KeyCount = 100_000;
    private const int ValueBytes = 100;
    private static readonly NodeId A = new("node-a");
    private static readonly NodeId B = new("node-b");

    private readonly ITestOutputHelper _output;

    public MerkleExchangeTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void Run_IdenticalTrees_OneRootRequestAndNoDifference()
    {
        (ReplicaModel local, ReplicaModel remote) = Replicas(2000, PartitionBits);
        MerkleExchange exchange = ExchangeDriver.Run(new PartitionId(3), local.Tree(3), remote.Tree(3));
        Assert.True(exchange.IsDone);
        Assert.Empty(exchange.DifferingSegments);
        Assert.Equal(1, exchange.RequestCount);
        Assert.Equal(1, exchange.HashesReceived);
    }

    [Fact]
    public void Run_OneDifferingKey_FindsItsSegmentWithFanOutTimesDepthHashes()
    {
        // 100,000 keys over 2 partitions: about 50 keys per segment.
        (ReplicaModel local, ReplicaModel remote) = Replicas(KeyCount, partitionBits: 1);
        remote.Put("the-odd-one", Write(A, "x"u8.ToArray()));
        ulong keyHash = KeyPartitioner.HashKey("the-odd-one"u8);
        PartitionId partition = new KeyPartitioner(1).PartitionOfHash(keyHash);
        PartitionMerkleTree tree = local.Tree(partition.Value);

        MerkleExchange exchange = ExchangeDriver.Run(partition, tree, remote.Tree(partition.Value));

        Assert.Equal(new[] { tree.SegmentOf(keyHash) }, exchange.DifferingSegments);
        Assert.Equal(tree.LevelCount, exchange.RequestCount);
        Assert.True(exchange.HashesReceived <= 1 + (tree.FanOut * (tree.LevelCount - 1)), $"{exchange.HashesReceived} hashes");
        SegmentKeysRequest request = Assert.Single(exchange.SegmentRequests());
        var reply = new SegmentKeysReply(remote.SegmentKeys(partition.Value, request.Segment));
        exchange.CountSegmentKeys(request, reply);
        SegmentDiff diff = SegmentDiff.Compute(local.SegmentKeys(partition.Value, request.Segment), reply.Keys);
        Assert.Equal("the-odd-one", Encoding.UTF8.GetString(Assert.Single(diff.MissingLocally)));
        Assert.Single(diff.KeysToRepair);
        _output.WriteLine(
            $"one differing key among {KeyCount:N0}: {exchange.RequestCount} requests, {exchange.HashesReceived} hashes, "
            + $"{reply.Keys.Count} keys listed for the segment, {exchange.TotalBytes:N0} bytes in all");
    }

    [Fact]
    public void Run_IdenticalReplicasOf100kKeys_SendLessThanOnePercentOfTheData()
    {
        (ReplicaModel local, ReplicaModel remote) = Replicas(KeyCount, PartitionBits);
        long bytes = 0;
        long requests = 0;
        for (int partition = 0; partition < local.PartitionCount; partition++)
        {
            MerkleExchange exchange = ExchangeDriver.Run(new PartitionId(partition), local.Tree(partition), remote.Tree(partition));
            Assert.Empty(exchange.DifferingSegments);
            bytes += exchange.TotalBytes;
            requests += exchange.RequestCount;
        }

        const long DataBytes = (long)KeyCount * ValueBytes;
        double percent = 100.0 * bytes / DataBytes;
        _output.WriteLine(
            $"identical replicas, {KeyCount:N0} keys × {ValueBytes} bytes = {DataBytes:N0} bytes of data in {local.PartitionCount} partitions: "
            + $"exchange sent {bytes:N0} bytes in {requests} requests ({percent:F3}% of the data)");
        Assert.True(bytes < DataBytes / 100, $"{bytes} bytes is {percent:F3}% of the data");
    }

    [Fact]
    public void Run_1000RandomDifferences_SegmentDiffFindsExactlyThoseKeysAndRepairConverges()
    {
        const int Seed = 5_2024;
        _output.WriteLine($"seed {Seed}");
        var random = new Random(Seed);
        (ReplicaModel local, ReplicaModel remote) = Replicas(KeyCount, PartitionBits);

        // Four kinds of divergence, 250 of each: a write only the local replica got, one only the remote got,
        // a newer version on the remote, and a brand-new key only on the remote.
        var expectedMissingRemotely = new HashSet<string>(StringComparer.Ordinal);
        var expectedMissingLocally = new HashSet<string>(StringComparer.Ordinal);
        var expectedDifferent = new HashSet<string>(StringComparer.Ordinal);
        var touched = new HashSet<int>();
        for (int i = 0; i < 1000; i++)
        {
            int k;
            do
            {
                k = random.Next(KeyCount);
            }
            while (!touched.Add(k));

            string key = Key(k);
            switch (i % 4)
            {
                case 0:
                    remote.Forget(key);
                    expectedMissingRemotely.Add(key);
                    break;
                case 1:
                    local.Forget(key);
                    expectedMissingLocally.Add(key);
                    break;
                case 2:
                    VersionedObject current = remote.Get(key);
                    remote.Put(key, current.Update(current.Context, B, Value(k + 7), 2_000, 0));
                    expectedDifferent.Add(key);
                    break;
                default:
                    string fresh = "new:" + k;
                    remote.Put(fresh, Write(B, Value(k)));
                    expectedMissingLocally.Add(fresh);
                    break;
            }
        }

        var foundMissingRemotely = new HashSet<string>(StringComparer.Ordinal);
        var foundMissingLocally = new HashSet<string>(StringComparer.Ordinal);
        var foundDifferent = new HashSet<string>(StringComparer.Ordinal);
        var repairs = new List<string>();
        long bytes = 0;
        int segments = 0;
        for (int partition = 0; partition < local.PartitionCount; partition++)
        {
            MerkleExchange exchange = ExchangeDriver.Run(new PartitionId(partition), local.Tree(partition), remote.Tree(partition));
            foreach (SegmentKeysRequest request in exchange.SegmentRequests())
            {
                var reply = new SegmentKeysReply(remote.SegmentKeys(partition, request.Segment));
                exchange.CountSegmentKeys(request, reply);
                SegmentDiff diff = SegmentDiff.Compute(local.SegmentKeys(partition, request.Segment), reply.Keys);
                Assert.False(diff.IsEmpty, $"segment {request.Segment} of partition {partition} differs by hash but not by keys");
                AddAll(foundMissingRemotely, diff.MissingRemotely);
                AddAll(foundMissingLocally, diff.MissingLocally);
                AddAll(foundDifferent, diff.Different);
                repairs.AddRange(diff.KeysToRepair.Select(k => Encoding.UTF8.GetString(k)));
                segments++;
            }

            bytes += exchange.TotalBytes;
        }

        Assert.Equal(expectedMissingRemotely.Order(StringComparer.Ordinal), foundMissingRemotely.Order(StringComparer.Ordinal));
        Assert.Equal(expectedMissingLocally.Order(StringComparer.Ordinal), foundMissingLocally.Order(StringComparer.Ordinal));
        Assert.Equal(expectedDifferent.Order(StringComparer.Ordinal), foundDifferent.Order(StringComparer.Ordinal));
        Assert.Equal(1000, repairs.Count);
        _output.WriteLine($"1,000 differences among {KeyCount:N0} keys: {segments} differing segments, exchange and key listings sent {bytes:N0} bytes");

        // Repair as the runtime will: merge both sides' objects and write the merge to both.
        foreach (string key in repairs)
        {
            VersionedObject merged = local.Get(key).Merge(remote.Get(key));
            local.Put(key, merged);
            remote.Put(key, merged);
        }

        for (int partition = 0; partition < local.PartitionCount; partition++)
        {
            Assert.Equal(local.Tree(partition).Root, remote.Tree(partition).Root);
        }
    }

    [Property(MaxTest = 200)]
    public bool Run_RandomTrees_FindsExactlyTheSegmentsWhoseHashesDiffer(ulong[] shared, ulong[] onlyLocal, ulong[] onlyRemote)
    {
        // A small tree (64 segments, fan-out 4: levels of 1, 4, 16, 64) so random keys collide in segments.
        var local = new PartitionMerkleTree(0, 64, 4);
        var remote = new PartitionMerkleTree(0, 64, 4);
        foreach (ulong key in shared)
        {
            local.Apply(key, 0, PartitionMerkleTreeTests.Hash(key));
            remote.Apply(key, 0, PartitionMerkleTreeTests.Hash(key));
        }

        foreach (ulong key in onlyLocal)
        {
            local.Apply(key, 0, PartitionMerkleTreeTests.Hash(key ^ 1));
        }

        foreach (ulong key in onlyRemote)
        {
            remote.Apply(key, 0, PartitionMerkleTreeTests.Hash(key ^ 2));
        }

        ulong[] localLeaves = local.GetLevel(local.LeafLevel, 0, 64);
        ulong[] remoteLeaves = remote.GetLevel(remote.LeafLevel, 0, 64);
        int[] expected = Enumerable.Range(0, 64).Where(s => localLeaves[s] != remoteLeaves[s]).ToArray();

        MerkleExchange exchange = ExchangeDriver.Run(new PartitionId(0), local, remote);
        return exchange.IsDone && exchange.DifferingSegments.SequenceEqual(expected);
    }

    [Fact]
    public void OnRemoteNodes_ReplyNobodyAskedFor_ThrowsPeerProtocolException()
    {
        var exchange = new MerkleExchange(new PartitionId(1), new PartitionMerkleTree(PartitionBits));
        MerkleExchangeStep first = exchange.Start();
        Assert.Equal(new MerkleLevelRequest(new PartitionId(1), 1024, 16, 0, 0, 1), Assert.Single(first.Requests));

        Assert.Throws<PeerProtocolException>(() => exchange.OnRemoteNodes(1, 0, [1, 2, 3, 4]));

        var wrongCount = new MerkleExchange(new PartitionId(1), new PartitionMerkleTree(PartitionBits));
        wrongCount.Start();
        Assert.Throws<PeerProtocolException>(() => wrongCount.OnRemoteNodes(0, 0, [1, 2]));
        Assert.True(wrongCount.IsFailed);
        Assert.True(exchange.IsFailed);
        Assert.False(exchange.IsDone);
        Assert.Throws<InvalidOperationException>(() => exchange.OnRemoteNodes(0, 0, [1]));
        Assert.Throws<InvalidOperationException>(() => exchange.Start());
        Assert.Throws<InvalidOperationException>(() => exchange.SegmentRequests());
    }

    [Fact]
    public void OnRemoteNodes_AdjacentDifferingNodes_AskForTheirChildrenInOneRequest()
    {
        var local = new PartitionMerkleTree(0, 64, 4);
        var exchange = new MerkleExchange(new PartitionId(0), local);
        exchange.Start();
        MerkleExchangeStep level1 = exchange.OnRemoteNodes(0, 0, [7]);
        Assert.Equal((1, 0, 4), (Assert.Single(level1.Requests).Level, level1.Requests[0].FromIndex, level1.Requests[0].Count));

        // Nodes 1 and 2 differ (adjacent), node 0 and 3 match: one request for children [4, 12).
        MerkleExchangeStep level2 = exchange.OnRemoteNodes(1, 0, [0, 5, 6, 0]);
        MerkleLevelRequest request = Assert.Single(level2.Requests);
        Assert.Equal((2, 4, 8), (request.Level, request.FromIndex, request.Count));
        Assert.False(level2.IsDone);
    }

    private static (ReplicaModel Local, ReplicaModel Remote) Replicas(int keys, int partitionBits)
    {
        var local = new ReplicaModel(partitionBits);
        var remote = new ReplicaModel(partitionBits);
        for (int i = 0; i < keys; i++)
        {
            VersionedObject value = Write(A, Value(i));
            local.Put(Key(i), value);
            remote.Put(Key(i), value);
        }

        return (local, remote);
    }

    private static VersionedObject Write(NodeId node, byte[] value) => VersionedObject.Empty.Update(VersionVector.Empty, node, value, 1_000, 0);

    private static string Key(int i) => "key:" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static byte[] Value(int i)
    {
        byte[] value = new byte[ValueBytes];
        BitConverter.TryWriteBytes(value, i);
        return value;
    }

    private static void AddAll(HashSet<string> set, IReadOnlyList<byte[]> keys)
    {
        foreach (byte[] key in keys)
        {
            set.Add(Encoding.UTF8.GetString(key));
        }
    }
}
