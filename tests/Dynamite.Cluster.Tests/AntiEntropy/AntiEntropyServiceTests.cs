using System.Buffers;
using System.Text;
using Dynamite.Cluster.AntiEntropy;
using Dynamite.Cluster.Coordination;
using Dynamite.Cluster.Replication;
using Dynamite.Cluster.Tests.Replication;
using Dynamite.Cluster.Transport;
using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Dynamite.Core.Ring;
using Dynamite.Core.Versioning;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Dynamite.Cluster.Tests.AntiEntropy;

/// <summary>
/// A round of the production <see cref="AntiEntropyService"/> between two in-process replicas (N=2: both primaries of
/// every partition): the peer's requests go straight to its real request handlers, every message through its wire
/// encoding, and a fake clock stands in for the exchange spacing.
/// </summary>
public sealed class AntiEntropyServiceTests : IAsyncLifetime
{
    private const long Start = 1_700_000_000_000;
    private const int Keys = 2000;

    private static readonly NodeDescriptor A = new(new NodeId("a"), "dc1", "r1");
    private static readonly NodeDescriptor B = new(new NodeId("b"), "dc1", "r2");

    private readonly TestEngines _engines = new();
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.FromUnixTimeMilliseconds(Start));
    private readonly PartitionMap _map = PartitionClaim.Initial([A, B], TestEngines.Partitioner.PartitionBits);
    private Replica _a = null!;
    private Replica _b = null!;
    private RecordingClient _toB = null!;
    private AntiEntropyService _service = null!;

    public async Task InitializeAsync()
    {
        _a = new Replica(_engines.Open("memory", "a"), _clock);
        _b = new Replica(_engines.Open("memory", "b"), _clock);
        for (int i = 0; i < Keys; i++)
        {
            VersionedObject value = Write("v" + i);
            await _a.Store.MergeAsync(Key("k" + i), value);
            await _b.Store.MergeAsync(Key("k" + i), value);
        }

        _toB = new RecordingClient(_b, new PeerIdentity("b", "dc1", "r2"));
        _service = new AntiEntropyService(
            _a.Trees, _a.Store, new Topology(_map, _toB), A, 2, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(5), _clock, NullLogger<AntiEntropyService>.Instance);
    }

    public async Task DisposeAsync()
    {
        await _service.DisposeAsync();
        await _engines.DisposeAsync();
    }

    [Fact]
    public async Task Round_IdenticalReplicas_OneRootsRequestAndNoExchange()
    {
        IReadOnlyList<ExchangeResult> results = await RoundAsync();

        Assert.Empty(results);
        Assert.Equal([PeerMessageType.MerkleRootsRequest], _toB.Sent.Select(s => s.Type));
    }

    [Fact]
    public async Task Round_ReplicasDifferingInAFewPartitions_ExchangesOnlyThoseAndConverges()
    {
        await _b.Store.MergeAsync(Key("only-on-b"), Write("x"));
        await _a.Store.MergeAsync(Key("only-on-a"), Write("y"));
        int[] expected = [.. new[] { "only-on-b", "only-on-a" }.Select(k => TestEngines.Partitioner.PartitionOf(Key(k)).Value).Distinct().Order()];

        IReadOnlyList<ExchangeResult> results = await RoundAsync();

        Assert.Equal(expected, results.Select(r => r.Partition.Value).Order());
        Assert.All(results, r => Assert.Null(r.Error));
        Assert.Equal(2, results.Sum(r => r.KeysRepaired));
        Assert.Equal(expected, _toB.Sent.OfType<MerkleLevelRequest>().Select(r => r.Partition.Value).Distinct().Order());
        Assert.Single(_toB.Sent, s => s.Type == PeerMessageType.MerkleRootsRequest);
        Assert.Equal(Keys + 2, _a.Store.KeyCount);
        Assert.Equal(Keys + 2, _b.Store.KeyCount);

        // Converged: the next round compares roots and has nothing to exchange.
        _toB.Sent.Clear();
        Assert.Empty(await RoundAsync());
        Assert.Equal([PeerMessageType.MerkleRootsRequest], _toB.Sent.Select(s => s.Type));
    }

    [Fact]
    public async Task Round_PeerCannotCompareRoots_ExchangesEverySharedPartitionAsBeforeAndConverges()
    {
        // A peer of an older version answers the unknown request with an Error, as its router does.
        _toB.RefuseRoots = true;
        await _b.Store.MergeAsync(Key("only-on-b"), Write("x"));

        IReadOnlyList<ExchangeResult> results = await RoundAsync();

        Assert.Equal(_map.PartitionCount, results.Count);
        Assert.Equal(1, results.Sum(r => r.KeysRepaired));
        Assert.Equal(Keys + 1, _a.Store.KeyCount);
    }

    [Fact]
    public async Task Round_TypedKeysDiffering_EachSideJoinsTheOthersWholeKeyAndTheTreesAgreeAfter()
    {
        // A set both replicas hold, then changed on each side (a remove and an add on b, an add on a), and a set only b holds.
        KeyDelta shared = (await _a.Store.TypedKeys.CoordinateAsync(new ChangeMembers(Key("tags"), add: ["x", "y"]), A.Id))!;
        await _b.Store.TypedKeys.JoinAsync(Key("tags"), shared);
        await _b.Store.TypedKeys.CoordinateAsync(new ChangeMembers(Key("tags"), add: ["z"], remove: ["x"]), B.Id);
        await _a.Store.TypedKeys.CoordinateAsync(new ChangeMembers(Key("tags"), add: ["w"]), A.Id);
        await _b.Store.TypedKeys.CoordinateAsync(new ChangeMembers(Key("only-on-b"), add: ["m"]), B.Id);

        IReadOnlyList<ExchangeResult> results = await RoundAsync();

        Assert.All(results, r => Assert.Null(r.Error));
        foreach (string key in new[] { "tags", "only-on-b" })
        {
            Assert.Equal(Describe(_b, key), Describe(_a, key));
        }

        Assert.Equal("w,y,z", Members(_a, "tags"));
        Assert.Equal("m", Members(_a, "only-on-b"));

        // The trees followed every join: the next round compares roots and has nothing to exchange.
        _toB.Sent.Clear();
        Assert.Empty(await RoundAsync());
        Assert.Equal([PeerMessageType.MerkleRootsRequest], _toB.Sent.Select(s => s.Type));
    }

    [Fact]
    public async Task Round_TypedKeysOfManyPages_TravelInPagesBothWays_AndConverge()
    {
        // Sets larger than one page (4,096 elements) travel as every element first, then every page with the header's
        // context and a remove limited to its names: removes and adds on either side, in every page, converge exactly.
        string[] all = [.. Enumerable.Range(0, 10_000).Select(i => $"m{i:D5}")];
        KeyDelta shared = (await _a.Store.TypedKeys.CoordinateAsync(new ChangeMembers(Key("big"), add: all), A.Id))!;
        await _b.Store.TypedKeys.JoinAsync(Key("big"), shared);
        string[] removedOnB = [.. Enumerable.Range(5000, 100).Select(i => $"m{i:D5}")];
        string[] removedOnA = [.. Enumerable.Range(100, 50).Concat(Enumerable.Range(9950, 50)).Select(i => $"m{i:D5}")];
        string[] addedOnB = [.. Enumerable.Range(0, 10).Select(i => $"m{(i * 1000) + 1:D5}b")];
        await _b.Store.TypedKeys.CoordinateAsync(new ChangeMembers(Key("big"), add: addedOnB, remove: removedOnB), B.Id);
        await _a.Store.TypedKeys.CoordinateAsync(new ChangeMembers(Key("big"), add: ["m04500a", "zz"], remove: removedOnA), A.Id);
        await _b.Store.TypedKeys.CoordinateAsync(new ChangeMembers(Key("big-only-on-b"), add: [.. all.Take(9000)]), B.Id);

        IReadOnlyList<ExchangeResult> results = await RoundAsync();

        Assert.All(results, r => Assert.Null(r.Error));
        string[] expected = [.. all.Except(removedOnA).Except(removedOnB).Concat(addedOnB).Append("m04500a").Append("zz").Order(StringComparer.Ordinal)];
        Assert.Equal(string.Join(",", expected), Members(_a, "big", int.MaxValue));
        Assert.Equal(string.Join(",", expected), Members(_b, "big", int.MaxValue));
        Assert.Equal(string.Join(",", all.Take(9000)), Members(_a, "big-only-on-b", int.MaxValue));
        Assert.True(_toB.Sent.Count(s => s.Type == PeerMessageType.ReplicaDelta) >= 6, "a's set went in pages both passes");
        Assert.True(_toB.Sent.Count(s => s.Type == PeerMessageType.ReplicaReadElements) >= 6, "b's sets were read in pages both passes");
        foreach (string key in new[] { "big", "big-only-on-b" })
        {
            Assert.True(_a.Store.Engine.TryRead(Key(key), Start, out StoredRecord onA));
            Assert.True(_b.Store.Engine.TryRead(Key(key), Start, out StoredRecord onB));
            Assert.Equal(TypedKeyRecord.Decode(onB.Value).Header.Context, TypedKeyRecord.Decode(onA.Value).Header.Context);
        }
    }

    [Fact]
    public async Task TombstonePass_OverAPartitionHoldingATypedKey_SkipsTheTypedKey()
    {
        // A typed key's header is no versioned object: the tombstone pass must not decode it as one.
        byte[] key = Enumerable.Range(0, 1000).Select(i => Key($"typed-{i}"))
            .First(k => PreferenceListBuilder.PrimariesOf(_map, TestEngines.Partitioner.PartitionOf(k), "dc1", 2)[0] == A.Id);
        await _a.Store.TypedKeys.CoordinateAsync(new ChangeMembers(key, add: ["m"]), A.Id);
        await _a.Store.MergeAsync(Key("deleted"), VersionedObject.Empty.Update(VersionVector.Empty, A.Id, null, Start, 0));
        var collector = new TombstoneCollector(_a.Store, new Topology(_map, _toB), A, 2, TimeSpan.Zero, TimeSpan.FromSeconds(1), _clock, NullLogger<TombstoneCollector>.Instance);

        int removed = await collector.CollectAsync(_map, TestEngines.Partitioner.PartitionOf(key), TimeSpan.Zero, CancellationToken.None);

        Assert.Equal(0, removed);
        Assert.Equal("m", Members(_a, Encoding.UTF8.GetString(key)));
    }

    private static string Describe(Replica replica, string key)
    {
        Assert.True(replica.Store.Engine.TryRead(Key(key), Start, out StoredRecord record));
        return Convert.ToHexString(record.Value) + " | " + string.Join(",", replica.Store.Engine.ScanElements(Key(key), null, 100).Elements.Select(e => Encoding.UTF8.GetString(e.Name) + "=" + Convert.ToHexString(e.Value)));
    }

    private static string Members(Replica replica, string key, int limit = 100) =>
        string.Join(",", replica.Store.Engine.ScanElements(Key(key), null, limit).Elements.Where(e => ElementState.Decode(e.Value).IsPresent).Select(e => Encoding.UTF8.GetString(e.Name)));

    /// <summary>SADD and SREM of a set as a cluster primary builds them (<see cref="KeyDeltaBuilder"/>).</summary>
    private sealed class ChangeMembers(byte[] key, string[] add, string[]? remove = null) : IKeyDeltaOperation
    {
        public byte[] Key => key;

        public KeyDelta? BuildDelta(IStorageTransaction transaction, NodeId actor)
        {
            KeyDeltaBuilder builder = KeyDeltaBuilder.Open(transaction, key, DataType.Set, actor)!;
            foreach (string member in add)
            {
                builder.Assign(Encoding.UTF8.GetBytes(member), null);
            }

            foreach (string member in remove ?? [])
            {
                builder.Remove(Encoding.UTF8.GetBytes(member));
            }

            return builder.Build();
        }

        public void AfterJoin(IStorageTransaction transaction)
        {
        }
    }

    /// <summary>Runs one round (the admin repair of every partition), advancing the fake clock through its spacing delays.</summary>
    private async Task<IReadOnlyList<ExchangeResult>> RoundAsync()
    {
        Task<IReadOnlyList<ExchangeResult>> round = _service.RepairNowAsync(null, null, CancellationToken.None);
        for (int step = 0; !round.IsCompleted; step++)
        {
            Assert.True(step < 1_000_000, "the round did not finish");
            _clock.Advance(TimeSpan.FromMilliseconds(10));
            await Task.Yield();
        }

        return await round;
    }

    private static byte[] Key(string text) => Encoding.UTF8.GetBytes(text);

    private static VersionedObject Write(string value) => VersionedObject.Empty.Update(VersionVector.Empty, A.Id, Encoding.UTF8.GetBytes(value), Start, 0);

    /// <summary>One replica's store, trees and the request handlers a peer's anti-entropy talks to.</summary>
    private sealed class Replica
    {
        public Replica(Dynamite.Storage.IStorageEngine engine, TimeProvider clock)
        {
            Trees = new AntiEntropyTrees(TestEngines.Partitioner);
            Store = new ReplicaStore(engine, clock, Trees);
            var collector = new TombstoneCollector(Store, topology: null!, A, 2, TimeSpan.Zero, TimeSpan.FromSeconds(1), clock, NullLogger<TombstoneCollector>.Instance);
            AntiEntropy = new AntiEntropyRequestHandler(Trees, engine, clock, collector);
            Replication = new ReplicaRequestHandler(Store, null, TestEngines.Partitioner, NullLogger.Instance);
        }

        public AntiEntropyTrees Trees { get; }

        public ReplicaStore Store { get; }

        public AntiEntropyRequestHandler AntiEntropy { get; }

        public ReplicaRequestHandler Replication { get; }
    }

    /// <summary>Sends each request to the replica's handler through the wire encoding and records it.</summary>
    private sealed class RecordingClient(Replica replica, PeerIdentity identity) : IPeerClient
    {
        private ulong _lastRequestId;

        public List<IPeerPayload> Sent { get; } = [];

        public bool RefuseRoots { get; set; }

        public PeerIdentity? RemoteIdentity => identity;

        public async Task<PeerResponse> SendAsync(IPeerPayload request, TimeSpan timeout, CancellationToken cancellationToken = default)
        {
            Sent.Add(request);
            var sink = new Sink();
            var incoming = new PeerIncomingRequest(request.Type, ++_lastRequestId, Encode(request), new PeerIdentity("a", "dc1", "r1"));
            if (RefuseRoots && request.Type == PeerMessageType.MerkleRootsRequest)
            {
                sink.Reply(incoming.RequestId, ErrorMessage.Create(PeerErrorCode.UnknownMessageType, "no service for MerkleRootsRequest"));
            }
            else if (replica.AntiEntropy.Serves.Contains(request.Type))
            {
                await replica.AntiEntropy.HandleAsync(incoming, sink, cancellationToken);
            }
            else
            {
                await replica.Replication.HandleAsync(incoming, sink, cancellationToken);
            }

            return new PeerResponse(sink.Answer!.Type, incoming.RequestId, Encode(sink.Answer), identity);
        }

        public void Send(IPeerPayload request, TimeSpan timeout, IPeerResponseCallback callback, TimeSpan? slowAfter = null) =>
            throw new NotSupportedException("anti-entropy awaits its requests");

        private static byte[] Encode(IPeerPayload payload)
        {
            var writer = new ArrayBufferWriter<byte>();
            payload.Write(writer);
            return writer.WrittenSpan.ToArray();
        }

        private sealed class Sink : IPeerReplySink
        {
            public IPeerPayload? Answer { get; private set; }

            public bool Reply<TPayload>(ulong requestId, TPayload payload)
                where TPayload : IPeerPayload
            {
                Answer = payload;
                return true;
            }
        }
    }

    private sealed class Topology(PartitionMap map, IPeerClient toB) : IClusterTopology
    {
        public PartitionMap? Map => map;

        public PartitionMap? PendingMap => null;

        public bool ServesLocalReads => true;

        public string NotReadyReason => string.Empty;

        public long ReachabilityVersion => 0;

        public IPeerClient? ClientFor(NodeId node) => node == B.Id ? toB : null;

        public bool IsMember(NodeId node) => node == A.Id || node == B.Id;

        public bool IsReachable(NodeId node) => IsMember(node);
    }
}
