using System.Buffers;
using Dynamite.Cluster.Coordination;
using Dynamite.Cluster.Replication;
using Dynamite.Cluster.Transport;
using Dynamite.Core.Membership;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Dynamite.Core.Ring;
using Dynamite.Protocols.Resp;
using Dynamite.Protocols.Resp.Commands;
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
    private readonly RespLimits _limits = new();
    private readonly BufferPipeWriter _output = new(64 * 1024);
    private RespServer _server = null!;
    private CommandContext _context = null!;
    private ClusterCoordinator _coordinator = null!;
    private ReadOnlySequence<byte> _get;
    private ReadOnlySequence<byte> _set;

    [GlobalSetup]
    public void Setup()
    {
        NodeDescriptor[] nodes = [.. Enumerable.Range(1, 3).Select(i => new NodeDescriptor(new NodeId($"n{i}"), "dc1", $"rack{i}"))];
        var topology = new AnsweringTopology(PartitionClaim.Initial(nodes, 8), nodes);
        var options = new ClusterOptions { Self = nodes[0], Actor = nodes[0].Id, PartitionBits = 8 };
        var replica = new ReplicaStore(new MemoryStorageEngine(new Core.Partitioning.KeyPartitioner(8)), TimeProvider.System);
        _coordinator = new ClusterCoordinator(options, topology, replica, hints: null, NullLogger<ClusterCoordinator>.Instance);
        _server = new RespServer(new ClusterKeyValueStore(_coordinator, TimeProvider.System), new RespServerOptions(), TimeProvider.System);
        var writer = new RespWriter();
        writer.Attach(_output);
        _context = new CommandContext(_server, new ClientSession(1, "127.0.0.1:1", "127.0.0.1:2", 0) { Authenticated = true }, writer);
        byte[] key = BenchmarkData.Key(1);
        _get = new ReadOnlySequence<byte>(BenchmarkData.Request(BenchmarkData.Ascii("GET"), key));
        _set = new ReadOnlySequence<byte>(BenchmarkData.Request(BenchmarkData.Ascii("SET"), key, BenchmarkData.Value()));
        Run(_set);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _server.Dispose();
        _coordinator.Dispose();
    }

    [Benchmark]
    public int Get() => Run(_get);

    [Benchmark]
    public int Set() => Run(_set);

    /// <summary>What RespConnectionHandler does per request, minus the pipe and the flush.</summary>
    private int Run(ReadOnlySequence<byte> buffer)
    {
        _output.Reset();
        if (!RespRequestParser.TryParse(ref buffer, _context.Request, _limits, unauthenticated: false))
        {
            throw new InvalidOperationException("the benchmark request did not parse");
        }

        Synchronous.Complete(CommandDispatcher.ExecuteAsync(_context));
        _context.Request.Release();
        return _output.WrittenCount;
    }

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
