using System.Threading.Tasks.Sources;
using Dynamite.Core.Coordination;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Peer.Messages;
using Dynamite.Core.Quorum;
using Dynamite.Core.Ring;
using Dynamite.Core.Versioning;

namespace Dynamite.Cluster.Coordination;

/// <summary>
/// One quorum read in flight: its state machine, and the answer the client waits on (<see cref="Answer"/>), set once
/// the state machine says answer. Replies arriving after the answer still feed the state machine for read repair.
/// The client's continuation runs inline, on the thread that sets the answer (usually the peer connection's read
/// loop, as a single node's commands run on the socket's I/O thread): a hop to the thread pool per request cost more
/// CPU than it saved. So the answer is set outside every lock. The read is its own awaitable (no task and no state
/// machine per read): a coordinator read is awaited exactly once, by the command that asked.
/// </summary>
internal sealed class PendingRead(GetRequest request, byte[] key, PartitionId partition, VersionedObject? local, ulong localDigest, ConsistencyLevel level, PreferenceList list)
    : IValueTaskSource<VersionedObject>, IValueTaskSource<ReadResult>
{
    private ManualResetValueTaskSourceCore<VersionedObject> _answer;

    /// <summary>Set by <see cref="ResolvedAnswer"/>: how the answer is resolved when the client takes it.</summary>
    private Func<VersionedObject, ReadResult>? _resolve;

    /// <summary>The typed read's answer, when it answered instead of the merge.</summary>
    private ReadResult? _typedAnswer;

    /// <summary>1 once the answer was set.</summary>
    private int _answered;

    public GetRequest Request { get; } = request;

    public byte[] Key { get; } = key;

    public PartitionId Partition { get; } = partition;

    /// <summary>This node's copy when it was read and found; replicas answering "unchanged" hold the same.</summary>
    public VersionedObject? Local { get; } = local;

    /// <summary>The version digest of <see cref="Local"/>; 0 (ask for the value) when there is none.</summary>
    public ulong LocalDigest { get; } = localDigest;

    /// <summary>The replica read every replica asked is sent (immutable, so one serves them all); made on first use.</summary>
    public ReplicaGet Message => field ??= new ReplicaGet(Key, Partition, LocalDigest);

    /// <summary>The merge of the replies, or the quorum's failure; awaited once.</summary>
    public ValueTask<VersionedObject> Answer => new(this, _answer.Version);

    /// <summary>
    /// True once a replica answered that it holds a typed key there (a hash, a set): the answer is then the typed read's
    /// (<see cref="ResolvedAnswer"/>), or a <see cref="TypedKeyException"/>. Set on a peer read loop.
    /// </summary>
    public volatile bool FoundTypedKey;

    /// <summary>
    /// The typed read that answers instead when a replica holds a typed key there, with its arguments (null: the answer is
    /// then a <see cref="TypedKeyException"/>). Set before the read is sent.
    /// </summary>
    public (Func<byte[], ConsistencyLevel?, CancellationToken, ValueTask<ReadResult>> Read, ConsistencyLevel? Consistency, CancellationToken CancellationToken)? TypedFallback { get; init; }

    /// <summary>
    /// The answer as <paramref name="resolve"/> makes it of the merge, or <see cref="TypedFallback"/>'s when a replica
    /// holds a typed key there; awaited once, instead of <see cref="Answer"/>.
    /// </summary>
    public ValueTask<ReadResult> ResolvedAnswer(Func<VersionedObject, ReadResult> resolve)
    {
        _resolve = resolve;
        return new(this, _answer.Version);
    }

    /// <summary>Sets the answer from the state machine's outcome, the first time only. Call outside the request's lock.</summary>
    public void TryAnswer()
    {
        if (Interlocked.Exchange(ref _answered, 1) != 0)
        {
            return;
        }

        if (FoundTypedKey)
        {
            if (TypedFallback is { } fallback)
            {
                _ = AnswerTypedAsync(fallback.Read, fallback.Consistency, fallback.CancellationToken);
            }
            else
            {
                _answer.SetException(new TypedKeyException($"Key {Replication.KeyText.Format(Key)} holds a hash, a set or a counter on a replica."));
            }

            return;
        }

        VersionedObject? merged = null;
        StoreUnavailableException? failure = null;
        lock (Request)
        {
            switch (Request.Outcome)
            {
                case GetOutcome.Ok or GetOutcome.NotFound:
                    merged = Request.Merged;
                    break;
                case GetOutcome.Disagreement:
                    failure = new StoreUnavailableException(
                        $"NOQUORUM replicas disagree ({level.Name}): {Request.Replies} replied, {Request.R} had to agree");
                    break;
                default:
                    failure = new StoreUnavailableException(
                        $"NOQUORUM read quorum not reached: {Request.Replies} of {Request.R} replicas answered (R={Request.R}, N={Request.N}{ClusterCoordinator.Unreachable(list)})");
                    break;
            }
        }

        if (failure is null)
        {
            _answer.SetResult(merged!);
        }
        else
        {
            _answer.SetException(failure);
        }
    }

    VersionedObject IValueTaskSource<VersionedObject>.GetResult(short token) => _answer.GetResult(token);

    ReadResult IValueTaskSource<ReadResult>.GetResult(short token)
    {
        VersionedObject merged = _answer.GetResult(token);
        return _typedAnswer ?? _resolve!(merged);
    }

    /// <summary>Answers with the typed read's result (or its failure); the merge is not used.</summary>
    private async Task AnswerTypedAsync(Func<byte[], ConsistencyLevel?, CancellationToken, ValueTask<ReadResult>> readTyped, ConsistencyLevel? consistency, CancellationToken cancellationToken)
    {
        try
        {
            _typedAnswer = await readTyped(Key, consistency, cancellationToken);
        }
        catch (Exception exception)
        {
            _answer.SetException(exception);
            return;
        }

        _answer.SetResult(VersionedObject.Empty);
    }

    ValueTaskSourceStatus IValueTaskSource<ReadResult>.GetStatus(short token) => _answer.GetStatus(token);

    void IValueTaskSource<ReadResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _answer.OnCompleted(continuation, state, token, flags);

    ValueTaskSourceStatus IValueTaskSource<VersionedObject>.GetStatus(short token) => _answer.GetStatus(token);

    void IValueTaskSource<VersionedObject>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _answer.OnCompleted(continuation, state, token, flags);
}
