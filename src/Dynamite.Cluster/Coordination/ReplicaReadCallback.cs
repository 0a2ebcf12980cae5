using System.Diagnostics;
using Dynamite.Cluster.Replication;
using Dynamite.Cluster.Transport;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Dynamite.Core.Versioning;
using Microsoft.Extensions.Logging;

namespace Dynamite.Cluster.Coordination;

/// <summary>One replica read's outcome; runs on the peer connection's read loop, so it only decodes and feeds the state machine.</summary>
internal sealed class ReplicaReadCallback(ClusterCoordinator coordinator, PendingRead read, NodeId node) : IPeerResponseCallback
{
    /// <summary>When the read was sent, if replica requests are timed (else 0).</summary>
    private readonly long _started = coordinator.Metrics is { TimesReplicaRequests: true } ? Stopwatch.GetTimestamp() : 0;

    public void OnResponse(PeerResponse response)
    {
        VersionedObject? reply;
        try
        {
            ReplicaGetReply answer = response.Read<ReplicaGetReply>();
            reply = answer.Status switch
            {
                ReplicaGetStatus.Found => VersionedObject.Decode(answer.EncodedObject.Span),
                ReplicaGetStatus.NotFound => null,
                ReplicaGetStatus.Unchanged when read.Local is not null => read.Local,
                ReplicaGetStatus.Unchanged => throw new PeerProtocolException($"{node} answered 'unchanged' to a read that named no digest"),
                ReplicaGetStatus.Typed => throw new TypedKeyException($"{node} holds a typed key there"),
                _ => throw new PeerUnavailableException($"{node} could not read the key"),
            };
        }
        catch (FormatException exception)
        {
            // The replica's stored object does not decode: a damaged record. Count it as a failed read, and say so.
            coordinator.Logger.LogWarning("Replica {Node} holds a damaged object for key {Key}: {Reason}", node, KeyText.Format(read.Key), exception.Message);
            Timed(ok: false);
            coordinator.OnReplicaRead(read, node, replied: false, null);
            return;
        }
        catch (TypedKeyException)
        {
            // Not a string: the read's answer comes from the typed path (PendingRead), and this reply counts for nothing here.
            read.FoundTypedKey = true;
            Timed(ok: true);
            coordinator.OnReplicaRead(read, node, replied: false, null);
            return;
        }
        catch (Exception exception) when (exception is PeerProtocolException or PeerRemoteException or PeerUnavailableException)
        {
            OnFailure(exception);
            return;
        }

        Timed(ok: true);
        coordinator.OnReplicaRead(read, node, replied: true, reply);
    }

    public void OnFailure(Exception error)
    {
        coordinator.Logger.LogDebug("Replica read from {Node} failed: {Reason}", node, error.Message);
        Timed(ok: false);
        coordinator.OnReplicaRead(read, node, replied: false, null);
    }

    public void OnSlow() => coordinator.OnReplicaSlow(read, node);

    private void Timed(bool ok)
    {
        if (_started != 0)
        {
            coordinator.Metrics!.ReplicaRequestDone(node, read: true, ok, _started);
        }
    }
}
