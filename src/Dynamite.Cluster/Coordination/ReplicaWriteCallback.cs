using System.Diagnostics;
using Dynamite.Cluster.Replication;
using Dynamite.Cluster.Transport;
using Dynamite.Core.Membership;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Microsoft.Extensions.Logging;

namespace Dynamite.Cluster.Coordination;

/// <summary>One replica write's outcome; runs on the peer connection's read loop.</summary>
internal sealed class ReplicaWriteCallback(ClusterCoordinator coordinator, PendingWrite write, NodeId node, bool countsTowardsW) : IPeerResponseCallback
{
    /// <summary>When the write was sent, if replica requests are timed (else 0).</summary>
    private readonly long _started = coordinator.Metrics is { TimesReplicaRequests: true } ? Stopwatch.GetTimestamp() : 0;

    public void OnResponse(PeerResponse response)
    {
        if (!TryReadStored(response, out bool stored, out Exception? failure))
        {
            OnFailure(failure);
            return;
        }

        Timed(ok: stored);
        coordinator.OnReplicaWritten(write, node, countsTowardsW, stored);
    }

    /// <summary>Whether <paramref name="response"/> says the replica stored the write; false, with why, when it is no acknowledgement.</summary>
    internal static bool TryReadStored(PeerResponse response, out bool stored, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out Exception? failure)
    {
        try
        {
            stored = response.Read<ReplicaPutAck>().Status == ReplicaPutStatus.Stored;
            failure = null;
            return true;
        }
        catch (Exception exception) when (exception is PeerProtocolException or PeerRemoteException)
        {
            stored = false;
            failure = exception;
            return false;
        }
    }

    public void OnFailure(Exception error)
    {
        coordinator.Logger.LogDebug("Replica write of {Key} to {Node} failed: {Reason}", KeyText.Format(write.Key), node, error.Message);
        Timed(ok: false);
        coordinator.OnReplicaWritten(write, node, countsTowardsW, stored: false);
    }

    private void Timed(bool ok)
    {
        if (_started != 0)
        {
            coordinator.Metrics!.ReplicaRequestDone(node, read: false, ok, _started);
        }
    }
}
