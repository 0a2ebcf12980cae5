using System.Threading.Tasks.Sources;
using Dynamite.Core.Coordination;
using Dynamite.Core.DataTypes;
using Dynamite.Core.Versioning;

namespace Dynamite.Cluster.Coordination;

/// <summary>
/// One quorum write in flight: its state machine, and the answer the put waits on (<see cref="Answer"/>, continued
/// inline, as <see cref="PendingRead"/>'s). Its own awaitable rather than a task completion source: no task per write.
/// </summary>
internal sealed class PendingWrite(PutRequest request, byte[] key, VersionedObject written) : IValueTaskSource
{
    private ManualResetValueTaskSourceCore<bool> _answer;

    /// <summary>1 once the answer was set.</summary>
    private int _answered;

    public PutRequest Request { get; } = request;

    public byte[] Key { get; } = key;

    /// <summary>The object written here and sent to the replicas (what a hint keeps).</summary>
    public VersionedObject Written { get; } = written;

    /// <summary>A typed key's change, sent and hinted instead of <see cref="Written"/> (then empty); null for a string's write.</summary>
    public KeyDelta? Delta { get; init; }

    /// <summary>
    /// Every change a batch made, an object or a delta per entry (<see cref="ClusterCoordinator.TryPutBatchAsync"/>, a
    /// transaction's commit; <see cref="Key"/> is its first key): a replica that missed the batch gets a hint of each.
    /// Null for one key's write.
    /// </summary>
    public IReadOnlyList<Replication.ReplicaChange>? Batch { get; init; }

    /// <summary>Completes when the state machine says answer (its outcome is read from <see cref="Request"/>); awaited once.</summary>
    public ValueTask Answer => new(this, _answer.Version);

    /// <summary>Sets the answer, the first time only. Call outside the request's lock: the put continues on this stack.</summary>
    public void TrySetResult()
    {
        if (Interlocked.Exchange(ref _answered, 1) == 0)
        {
            _answer.SetResult(true);
        }
    }

    void IValueTaskSource.GetResult(short token) => _answer.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _answer.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _answer.OnCompleted(continuation, state, token, flags);
}
