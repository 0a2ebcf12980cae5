using Dynamite.Core.KeyValue;

namespace Dynamite.Storage;

/// <summary>
/// One item of the writer queue, and also the completion its caller awaits (one allocation per write).
/// Continuations run asynchronously, so a client's continuation never runs on, and never delays, the writer thread.
/// A request cancelled while still queued is skipped by the writer; once the writer has started it, the outcome
/// is the commit's, because a write that may already be durable must not be reported as cancelled.
/// </summary>
internal sealed class StorageWriteRequest : TaskCompletionSource<int>
{
    private const int Queued = 0;
    private const int Started = 1;
    private const int Cancelled = 2;

    private int _state;
    private CancellationTokenRegistration _cancellation;

    private StorageWriteRequest(StorageWriteKind kind, IStorageOperation? operation, long nowUnixMs, int maxKeys, long startTimestamp = 0, List<byte[]>? removedKeys = null)
        : base(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        Kind = kind;
        RemovedKeys = removedKeys;
        Operation = operation;
        NowUnixMs = nowUnixMs;
        MaxKeys = maxKeys;
        StartTimestamp = startTimestamp;
    }

    public StorageWriteKind Kind { get; }

    public IStorageOperation? Operation { get; }

    public long NowUnixMs { get; }

    public int MaxKeys { get; }

    /// <summary>For an expiry sweep: where the writer adds the keys it removed; null when nobody asked.</summary>
    public List<byte[]>? RemovedKeys { get; }

    /// <summary>When the caller queued it (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>); 0 when writes are not timed.</summary>
    public long StartTimestamp { get; }

    public static StorageWriteRequest ForOperation(IStorageOperation operation, long nowUnixMs, long startTimestamp = 0) =>
        new(StorageWriteKind.Operation, operation, nowUnixMs, 0, startTimestamp);

    public static StorageWriteRequest ForRemoveExpired(long nowUnixMs, int maxKeys, List<byte[]>? removedKeys) =>
        new(StorageWriteKind.RemoveExpired, null, nowUnixMs, maxKeys, removedKeys: removedKeys);

    public static StorageWriteRequest For(StorageWriteKind kind) => new(kind, null, 0, 0);

    /// <summary>Lets <paramref name="cancellationToken"/> cancel the request while it is queued. Call before enqueueing.</summary>
    public void RegisterCancellation(CancellationToken cancellationToken)
    {
        if (cancellationToken.CanBeCanceled)
        {
            _cancellation = cancellationToken.UnsafeRegister(
                static (state, token) => ((StorageWriteRequest)state!).CancelIfQueued(token),
                this);
        }
    }

    /// <summary>Called by the writer: true if the request is still wanted and now can no longer be cancelled.</summary>
    public bool TryStart() => Interlocked.CompareExchange(ref _state, Started, Queued) == Queued;

    public void Succeed(int result)
    {
        _cancellation.Dispose();
        TrySetResult(result);
    }

    public void Fail(Exception exception)
    {
        _cancellation.Dispose();
        TrySetException(exception);
    }

    private void CancelIfQueued(CancellationToken cancellationToken)
    {
        if (Interlocked.CompareExchange(ref _state, Cancelled, Queued) == Queued)
        {
            TrySetCanceled(cancellationToken);
        }
    }
}
