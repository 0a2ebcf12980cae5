using Dynamite.Core.Coordination;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Peer.Messages;
using Dynamite.Core.Versioning;

namespace Dynamite.Cluster.Coordination;

/// <summary>
/// One quorum read in flight: its state machine, and the task the client waits on (completed when the state
/// machine says answer). Replies arriving after the answer still feed the state machine for read repair.
/// The client's continuation runs inline, on the thread that completes the task (usually the peer connection's
/// read loop, as a single node's commands run on the socket's I/O thread): a hop to the thread pool per request
/// cost more CPU than it saved. So the task is completed outside every lock.
/// </summary>
internal sealed class PendingRead(GetRequest request, byte[] key, PartitionId partition, VersionedObject? local, ulong localDigest)
    : TaskCompletionSource(TaskCreationOptions.None)
{
    public GetRequest Request { get; } = request;

    public byte[] Key { get; } = key;

    public PartitionId Partition { get; } = partition;

    /// <summary>This node's copy when it was read and found; replicas answering "unchanged" hold the same.</summary>
    public VersionedObject? Local { get; } = local;

    /// <summary>The version digest of <see cref="Local"/>; 0 (ask for the value) when there is none.</summary>
    public ulong LocalDigest { get; } = localDigest;

    /// <summary>The replica read every replica asked is sent (immutable, so one serves them all); made on first use.</summary>
    public ReplicaGet Message => field ??= new ReplicaGet(Key, Partition, LocalDigest);
}
