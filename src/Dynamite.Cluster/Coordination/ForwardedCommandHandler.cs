using System.Text;
using Dynamite.Cluster.Transport;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;

namespace Dynamite.Cluster.Coordination;

/// <summary>
/// Client commands forwarded by nodes that do not coordinate their key's writes (<see cref="ForwardCommand"/>): run here
/// through the host's front end (<see cref="Runner"/>, set once the front end exists), as if the client were connected
/// here. A command forwarded here is never forwarded again: if this node no longer coordinates the key either (the
/// ring changed), the command's own error says so.
/// </summary>
public sealed class ForwardedCommandHandler : IPeerService
{
    public IReadOnlyList<PeerMessageType> Serves { get; } = [PeerMessageType.ForwardCommand];

    /// <summary>The front end that runs forwarded commands; null until the host sets it (a node without one refuses them).</summary>
    public IForwardedCommandRunner? Runner { get; set; }

    public async ValueTask HandleAsync(PeerIncomingRequest request, IPeerReplySink reply, CancellationToken connectionClosed)
    {
        ArgumentNullException.ThrowIfNull(reply);
        IPeerPayload answer;
        try
        {
            ForwardCommand command = request.Read<ForwardCommand>();
            byte[] bytes = Runner is { } runner
                ? await runner.RunAsync(command.Arguments, command.ProtocolVersion, command.Consistency, connectionClosed)
                : Encoding.ASCII.GetBytes("-ERR this node runs no client commands for other nodes\r\n");
            answer = new ForwardCommandReply(bytes);
        }
        catch (PeerProtocolException exception)
        {
            answer = ErrorMessage.Create(PeerErrorCode.MalformedPayload, exception.Message);
        }

        reply.Reply(request.RequestId, answer);
    }
}
