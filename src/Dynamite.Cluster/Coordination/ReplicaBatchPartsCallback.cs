using Dynamite.Cluster.Transport;
using Dynamite.Core.Peer.Messages;

namespace Dynamite.Cluster.Coordination;

/// <summary>
/// The answers of a transaction sent to one replica in several <see cref="ReplicaBatch"/> messages (more than one holds),
/// taken as one: stored once every part is, failed at the first part that is not. Runs on the peer connection's read loop.
/// </summary>
internal sealed class ReplicaBatchPartsCallback(int parts, ReplicaWriteCallback whole) : IPeerResponseCallback
{
    private int _remaining = parts;

    /// <summary>1 once the whole was answered (a failure, or the last part stored).</summary>
    private int _answered;

    public void OnResponse(PeerResponse response)
    {
        if (!ReplicaWriteCallback.TryReadStored(response, out bool stored, out Exception? failure))
        {
            OnFailure(failure);
        }
        else if (!stored)
        {
            OnFailure(new InvalidOperationException("the replica did not store a part of the transaction"));
        }
        else if (Interlocked.Decrement(ref _remaining) == 0 && Interlocked.Exchange(ref _answered, 1) == 0)
        {
            whole.OnResponse(response);
        }
    }

    public void OnFailure(Exception error)
    {
        if (Interlocked.Exchange(ref _answered, 1) == 0)
        {
            whole.OnFailure(error);
        }
    }
}
