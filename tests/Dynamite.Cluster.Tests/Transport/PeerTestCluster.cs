using System.Net;
using Dynamite.Cluster.Transport;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dynamite.Cluster.Tests.Transport;

/// <summary>Builds listeners and clients on loopback (port 0) with test-sized timeouts, and stops them all at the end.</summary>
internal sealed class PeerTestCluster : IAsyncDisposable
{
    public static readonly PeerIdentity ServerIdentity = new("server-node", "dc1", "rack-a");
    public static readonly PeerIdentity ClientIdentity = new("client-node", "dc1", "rack-b");

    /// <summary>A generous bound for every wait in a test: far above the expected milliseconds, far below a hang.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    private readonly List<IAsyncDisposable> _owned = [];

    /// <summary>Echoes a ReplicaGet's key as the found object, acknowledges puts, counts 42 keys.</summary>
    public static readonly IPeerRequestHandler EchoHandler = new DelegateHandler((request, reply) =>
    {
        switch (request.Type)
        {
            case PeerMessageType.ReplicaGet:
                reply.Reply(request.RequestId, new ReplicaGetReply(ReplicaGetStatus.Found, request.Read<ReplicaGet>().Key.ToArray()));
                break;
            case PeerMessageType.ReplicaPut:
                request.Read<ReplicaPut>();
                reply.Reply(request.RequestId, new ReplicaPutAck(ReplicaPutStatus.Stored));
                break;
            case PeerMessageType.ReplicaCount:
                reply.Reply(request.RequestId, new ReplicaCountReply(42));
                break;
            default:
                reply.Reply(request.RequestId, new ErrorMessage(PeerErrorCode.UnknownMessageType, request.Type.ToString()));
                break;
        }

        return ValueTask.CompletedTask;
    });

    public static PeerTransportOptions Options(PeerIdentity identity, string cluster = "test-cluster", string secret = "correct horse") => new()
    {
        ClusterName = cluster,
        ClusterSecret = secret,
        LocalIdentity = identity,
        AdvertisedAddress = "127.0.0.1:0",
        ConnectTimeout = TimeSpan.FromSeconds(2),
        HandshakeTimeout = TimeSpan.FromSeconds(2),
        DefaultRequestTimeout = Patience,
    };

    public PeerListener StartListener(IPeerRequestHandler handler, PeerTransportOptions? options = null, int port = 0)
    {
        var listener = new PeerListener(options ?? Options(ServerIdentity), handler, TimeProvider.System, NullLogger<PeerListener>.Instance);
        listener.Start(new IPEndPoint(IPAddress.Loopback, port));
        _owned.Add(listener);
        return listener;
    }

    public PeerClient Client(PeerListener listener, PeerTransportOptions? options = null) => Client(listener.LocalEndPoint!, options);

    public PeerClient Client(EndPoint endpoint, PeerTransportOptions? options = null)
    {
        var client = new PeerClient(endpoint, options ?? Options(ClientIdentity), TimeProvider.System, NullLogger<PeerClient>.Instance);
        _owned.Add(client);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (IAsyncDisposable owned in Enumerable.Reverse(_owned))
        {
            await owned.DisposeAsync().AsTask().WaitAsync(Patience);
        }
    }
}
