using System.Buffers;
using Dynamite.Cluster.Coordination;
using Dynamite.Cluster.Replication;
using Dynamite.Cluster.Transport;
using Dynamite.Core.Membership;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Dynamite.Core.Ring;
using Dynamite.Storage.Memory;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dynamite.Benchmarks;

/// <summary>
/// The coordinator's request path of a 3-node cluster (N=3, R=W=2) without sockets: parse one request, run it
/// through the command table, <see cref="ClusterKeyValueStore"/> and <see cref="ClusterCoordinator"/> (preference
/// list, the request state machine, the local replica, the replica messages), and write the reply. The peers
/// answer at once, inside <see cref="IPeerClient.Send"/>: a GET's remote replica says "unchanged", a SET's two
/// replicas acknowledge. So this is the coordinator's CPU and allocation per cluster GET/SET, minus the network
/// (each reply's <see cref="PeerResponse"/> is allocated, as the transport does).
/// </summary>
// Not sealed: BenchmarkDotNet emits a type deriving from each benchmark class.
public class ClusterCommandPathBenchmarks
{
    private CommandPathRunner _runner = null!;
    private ClusterCoordinator _coordinator = null!;

    [GlobalSetup]
    public void Setup()
    {
        NodeDescriptor[] nodes = [.. Enumerable.Range(1, 3).Select(i => new NodeDescriptor(new NodeId($"n{i}"), "dc1", $"rack{i}"))];
        var topology = new AnsweringTopology(PartitionClaim.Initial(nodes, 8), nodes);
        var options = new ClusterOptions { Self = nodes[0], Actor = nodes[0].Id, PartitionBits = 8 };
        var replica = new ReplicaStore(new MemoryStorageEngine(new Core.Partitioning.KeyPartitioner(8)), TimeProvider.System);
        _coordinator = new ClusterCoordinator(options, topology, replica, hints: null, NullLogger<ClusterCoordinator>.Instance);
        _runner = new CommandPathRunner(new ClusterKeyValueStore(_coordinator, TimeProvider.System));
        _runner.Run(_runner.Set);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _runner.Dispose();
        _coordinator.Dispose();
    }

    [Benchmark]
    public int Get() => _runner.Run(_runner.Get);

    [Benchmark]
    public int Set() => _runner.Run(_runner.Set);

    /// <summary>Every node up, no plan pending, and a peer client per node that answers within Send.</summary>
    private sealed class AnsweringTopology(PartitionMap map, NodeDescriptor[] nodes) : IClusterTopology
    {
        private readonly Dictionary<NodeId, IPeerClient> _peers = nodes.ToDictionary(n => n.Id, n => (IPeerClient)new AnsweringPeer(n));

        public PartitionMap? Map => map;

        public PartitionMap? PendingMap => null;

        public bool ServesLocalReads => true;

        public string NotReadyReason => "ready";

        public long ReachabilityVersion => 1;

        public IPeerClient? ClientFor(NodeId node) => _peers.GetValueOrDefault(node);

        public bool IsReachable(NodeId node) => true;

        public bool IsMember(NodeId node) => true;
    }

    /// <summary>A replica that holds what the coordinator holds: reads are "unchanged", writes are stored.</summary>
    private sealed class AnsweringPeer(NodeDescriptor node) : IPeerClient
    {
        private static readonly byte[] Stored = Encode(new ReplicaPutAck(ReplicaPutStatus.Stored));
        private static readonly byte[] Unchanged = Encode(new ReplicaGetReply(ReplicaGetStatus.Unchanged, ReadOnlyMemory<byte>.Empty));
        private readonly PeerIdentity _identity = new(node.Id.Value, node.Datacenter, node.Rack);

        public PeerIdentity? RemoteIdentity => _identity;

        public void Send(IPeerPayload request, TimeSpan timeout, IPeerResponseCallback callback, TimeSpan? slowAfter = null) =>
            callback.OnResponse(request.Type == PeerMessageType.ReplicaGet
                ? new PeerResponse(PeerMessageType.ReplicaGetReply, 1, Unchanged, _identity)
                : new PeerResponse(PeerMessageType.ReplicaPutAck, 1, Stored, _identity));

        public Task<PeerResponse> SendAsync(IPeerPayload request, TimeSpan timeout, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("the request path sends with callbacks");

        private static byte[] Encode(IPeerPayload payload)
        {
            var buffer = new ArrayBufferWriter<byte>();
            payload.Write(buffer);
            return buffer.WrittenSpan.ToArray();
        }
    }
}
