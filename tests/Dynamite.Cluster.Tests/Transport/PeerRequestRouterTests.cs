using Dynamite.Cluster.Transport;
using Dynamite.Core.Peer;
using Xunit;

namespace Dynamite.Cluster.Tests.Transport;

public sealed class PeerRequestRouterTests
{
    [Fact]
    public void Constructor_EveryRequestOwnedOnce_Builds()
    {
        var router = new PeerRequestRouter([new Service(PeerMessages.ServiceRequests.Take(5)), new Service(PeerMessages.ServiceRequests.Skip(5))]);
        Assert.All(PeerMessages.ServiceRequests, type => Assert.NotNull(router.OwnerOf(type)));
        Assert.Null(router.OwnerOf(PeerMessageType.Ping));
    }

    [Fact]
    public void Constructor_ARequestNobodyOwns_ThrowsNamingIt()
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() => new PeerRequestRouter([new Service(PeerMessages.ServiceRequests.Where(t => t != PeerMessageType.JoinRequest))]));
        Assert.Contains("JoinRequest", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_TwoOwnersOfOneRequest_Throws()
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() => new PeerRequestRouter([new Service(PeerMessages.ServiceRequests), new Service([PeerMessageType.ReplicaGet])]));
        Assert.Contains("two owners", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_AServiceClaimsAReply_Throws()
    {
        Assert.Throws<ArgumentException>(() => new PeerRequestRouter([new Service([.. PeerMessages.ServiceRequests, PeerMessageType.ReplicaGetReply])]));
    }

    [Fact]
    public async Task HandleAsync_RoutesEachTypeToItsOwner_AndAnswersAnUnservedTypeWithAnError()
    {
        var gossip = new Service([PeerMessageType.GossipDigest, PeerMessageType.GossipState, PeerMessageType.JoinRequest]);
        var rest = new Service(PeerMessages.ServiceRequests.Except(gossip.Serves));
        var router = new PeerRequestRouter([gossip, rest]);
        var sink = new RecordingSink();
        var from = new PeerIdentity("n2", "dc1", "r2");

        await router.HandleAsync(new PeerIncomingRequest(PeerMessageType.GossipDigest, 7, Array.Empty<byte>(), from), sink, CancellationToken.None);
        await router.HandleAsync(new PeerIncomingRequest(PeerMessageType.ReplicaGet, 8, Array.Empty<byte>(), from), sink, CancellationToken.None);
        await router.HandleAsync(new PeerIncomingRequest(PeerMessageType.Pong, 9, Array.Empty<byte>(), from), sink, CancellationToken.None);

        Assert.Equal([7ul], gossip.Handled);
        Assert.Equal([8ul], rest.Handled);
        (ulong id, IPeerPayload payload) = Assert.Single(sink.Replies);
        Assert.Equal(9ul, id);
        Assert.Equal(PeerMessageType.Error, payload.Type);
    }

    private sealed class Service(IEnumerable<PeerMessageType> serves) : IPeerService
    {
        public IReadOnlyList<PeerMessageType> Serves { get; } = [.. serves];

        public List<ulong> Handled { get; } = [];

        public ValueTask HandleAsync(PeerIncomingRequest request, IPeerReplySink reply, CancellationToken connectionClosed)
        {
            Handled.Add(request.RequestId);
            return ValueTask.CompletedTask;
        }
    }

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
