using System.Buffers;
using System.Text;
using Dynamite.Cluster.AntiEntropy;
using Dynamite.Cluster.Replication;
using Dynamite.Cluster.Tests.Replication;
using Dynamite.Cluster.Transport;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Dynamite.Core.Versioning;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Dynamite.Cluster.Tests.AntiEntropy;

/// <summary>The replica side of a root comparison: <see cref="AntiEntropyRequestHandler"/> answering <see cref="MerkleRootsRequest"/>s, good and bad.</summary>
public sealed class AntiEntropyRequestHandlerTests : IAsyncLifetime
{
    private const long Start = 1_700_000_000_000;
    private static readonly PeerIdentity Peer = new("n2", "dc1", "r2");
    private static readonly NodeId Writer = new("n1");

    private readonly TestEngines _engines = new();
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.FromUnixTimeMilliseconds(Start));
    private readonly AntiEntropyTrees _trees = new(TestEngines.Partitioner);
    private ReplicaStore _store = null!;
    private AntiEntropyRequestHandler _handler = null!;

    public Task InitializeAsync()
    {
        _store = new ReplicaStore(_engines.Open("memory"), _clock, _trees);
        var collector = new TombstoneCollector(
            _store, topology: null!, new NodeDescriptor(Writer, "dc1", "r1"), 3, TimeSpan.Zero, TimeSpan.FromSeconds(1), _clock, NullLogger<TombstoneCollector>.Instance);
        _handler = new AntiEntropyRequestHandler(_trees, _store.Engine, _clock, collector);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _engines.DisposeAsync();

    [Fact]
    public async Task MerkleRootsRequest_SomePartitions_AnswersEachTreesRootInRequestOrder()
    {
        await _store.MergeAsync(Key("a"), Write("1"), CancellationToken.None);
        await _store.MergeAsync(Key("b"), Write("2"), CancellationToken.None);
        PartitionId[] partitions = [.. new[] { PartitionOf("a"), PartitionOf("b"), new PartitionId(0), new PartitionId(255) }.Distinct().OrderBy(p => p.Value)];

        IPeerPayload answer = await HandleAsync(new MerkleRootsRequest(_trees.SegmentCount, _trees.FanOut, partitions));

        MerkleRootsReply reply = Assert.IsType<MerkleRootsReply>(answer);
        Assert.Equal(_trees.Roots(partitions), reply.Roots.ToArray());
        Assert.Contains(reply.Roots.ToArray(), root => root != 0);
    }

    [Fact]
    public async Task MerkleRootsRequest_PartitionBeyondTheRing_ErrorNamingIt()
    {
        ErrorMessage error = Assert.IsType<ErrorMessage>(await HandleAsync(new MerkleRootsRequest(_trees.SegmentCount, _trees.FanOut, [new PartitionId(3), new PartitionId(256)])));

        Assert.Equal(PeerErrorCode.MalformedPayload, error.Code);
        Assert.Contains("no partition 256", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MerkleRootsRequest_OtherTreeShape_ErrorNamingThisShape()
    {
        ErrorMessage error = Assert.IsType<ErrorMessage>(await HandleAsync(new MerkleRootsRequest(512, _trees.FanOut, [new PartitionId(3)])));

        Assert.Equal(PeerErrorCode.MalformedPayload, error.Code);
        Assert.Contains("tree shape differs", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MerkleRootsRequest_Garbage_ErrorNotException()
    {
        // A count the payload cannot hold: the decoder refuses it, and the peer gets an Error reply.
        var sink = new RecordingSink();
        byte[] payload = [0, 0, 4, 0, 0, 0, 0, 16, 0x7F, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1];

        await _handler.HandleAsync(new PeerIncomingRequest(PeerMessageType.MerkleRootsRequest, 5, payload, Peer), sink, CancellationToken.None);

        (ulong id, IPeerPayload answer) = Assert.Single(sink.Replies);
        Assert.Equal(5ul, id);
        ErrorMessage error = Assert.IsType<ErrorMessage>(answer);
        Assert.Equal(PeerErrorCode.MalformedPayload, error.Code);
        Assert.Contains("count", error.Message, StringComparison.Ordinal);
    }

    private async Task<IPeerPayload> HandleAsync(IPeerPayload request)
    {
        var writer = new ArrayBufferWriter<byte>();
        request.Write(writer);
        var sink = new RecordingSink();
        await _handler.HandleAsync(new PeerIncomingRequest(request.Type, 1, writer.WrittenMemory.ToArray(), Peer), sink, CancellationToken.None);
        return Assert.Single(sink.Replies).Payload;
    }

    private static byte[] Key(string text) => Encoding.UTF8.GetBytes(text);

    private static PartitionId PartitionOf(string key) => TestEngines.Partitioner.PartitionOf(Key(key));

    private static VersionedObject Write(string value) => VersionedObject.Empty.Update(VersionVector.Empty, Writer, Encoding.UTF8.GetBytes(value), Start, 0);

    private sealed class RecordingSink : IPeerReplySink
    {
        public List<(ulong Id, IPeerPayload Payload)> Replies { get; } = [];

        public bool Reply<TPayload>(ulong requestId, TPayload payload)
            where TPayload : IPeerPayload
        {
            Replies.Add((requestId, payload));
            return true;
        }
    }
}
