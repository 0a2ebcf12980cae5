using Dynamite.Cluster.Transport;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Peer.Messages;
using Dynamite.Core.Ring;
using Dynamite.Core.Versioning;

namespace Dynamite.Cluster.Coordination;

/// <summary>
/// Forwards a write from a node that holds no replica of its key to one that does (a put on the
/// <see cref="ClusterCoordinator"/> with forwarding allowed). The replica coordinates it and answers for the whole quorum.
/// </summary>
internal sealed class WriteForwarder(IClusterTopology topology, TimeSpan requestTimeout)
{
    /// <summary>
    /// A node that holds no replica of the key (the cluster is larger than N) hands the write to the first
    /// reachable replica, which coordinates it; the next one is tried if a replica cannot be reached.
    /// </summary>
    public async Task ForwardAsync(PreferenceList list, byte[] key, VersionVector? context, byte[]? value, byte[]? bitPatches, long expiresAtUnixMs, int w, CancellationToken cancellationToken)
    {
        byte[] encodedContext = [];
        if (context is not null)
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            context.Write(buffer);
            encodedContext = buffer.WrittenSpan.ToArray();
        }

        var request = new CoordinatePut(key, encodedContext, value ?? [], value is null, expiresAtUnixMs, w, bitPatches ?? []);
        string lastFailure = "no replica is reachable";
        foreach (PreferenceListEntry entry in list.Entries)
        {
            IPeerClient? client = topology.ClientFor(entry.Node);
            if (client is null)
            {
                continue;
            }

            try
            {
                // The replica waits for its own quorum, so allow it two request timeouts.
                PeerResponse response = await client.SendAsync(request, requestTimeout * 2, cancellationToken);
                CoordinatePutReply reply = response.Read<CoordinatePutReply>();
                if (reply.Stored)
                {
                    return;
                }

                if (!reply.Reason.StartsWith(ClusterCoordinator.NotAReplicaPrefix, StringComparison.Ordinal))
                {
                    throw new StoreUnavailableException(reply.Reason);
                }

                // That node's map differs from ours while a membership change spreads: the next replica may agree.
                lastFailure = $"{entry.Node}: {reply.Reason}";
            }
            catch (Exception exception) when (exception is PeerUnavailableException or TimeoutException or PeerRemoteException)
            {
                lastFailure = $"{entry.Node}: {exception.Message}";
            }
        }

        throw new StoreUnavailableException($"NOQUORUM could not forward the write to a replica of partition {list.Partition} ({lastFailure})");
    }
}
