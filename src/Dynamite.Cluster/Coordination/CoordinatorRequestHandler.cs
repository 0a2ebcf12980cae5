using Dynamite.Cluster.Transport;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Dynamite.Core.Quorum;
using Dynamite.Core.Versioning;

namespace Dynamite.Cluster.Coordination;

/// <summary>
/// Writes forwarded by nodes that hold no replica of their key: coordinated here, as if a client had sent them.
/// </summary>
public sealed class CoordinatorRequestHandler(ClusterCoordinator coordinator) : IPeerService
{
    public IReadOnlyList<PeerMessageType> Serves { get; } = [PeerMessageType.CoordinatePut];

    public async ValueTask HandleAsync(PeerIncomingRequest request, IPeerReplySink reply, CancellationToken connectionClosed)
    {
        ArgumentNullException.ThrowIfNull(reply);
        IPeerPayload answer;
        try
        {
            CoordinatePut put = request.Read<CoordinatePut>();
            VersionVector? context = put.EncodedContext.IsEmpty ? null : VersionVector.Read(put.EncodedContext.Span, out _);
            ConsistencyLevel? level = put.WriteQuorum == 0 ? null : ConsistencyLevel.Explicit(1, put.WriteQuorum);
            await coordinator.PutAsync(put.Key.ToArray(), context, put.IsDelete ? null : put.Value.ToArray(), put.IsDelete || put.BitPatches.IsEmpty ? null : put.BitPatches.ToArray(), put.ExpiresAtUnixMs, level, mayForward: false, connectionClosed);
            answer = new CoordinatePutReply(true, "");
        }
        catch (StoreUnavailableException exception)
        {
            answer = new CoordinatePutReply(false, exception.Message);
        }
        catch (Exception exception) when (exception is PeerProtocolException or FormatException)
        {
            answer = ErrorMessage.Create(PeerErrorCode.MalformedPayload, exception.Message);
        }

        reply.Reply(request.RequestId, answer);
    }
}
