using Dynamite.Core.Coordination;
using Dynamite.Core.Versioning;

namespace Dynamite.Cluster.Coordination;

/// <summary>One quorum write in flight: its state machine, and the task the client waits on (continued inline, as <see cref="PendingRead"/>).</summary>
internal sealed class PendingWrite(PutRequest request, byte[] key, VersionedObject written)
    : TaskCompletionSource(TaskCreationOptions.None)
{
    public PutRequest Request { get; } = request;

    public byte[] Key { get; } = key;

    /// <summary>The object written here and sent to the replicas (what a hint keeps).</summary>
    public VersionedObject Written { get; } = written;
}
