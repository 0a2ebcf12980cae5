namespace Dynamite.Protocols.Resp.Blocking;

/// <summary>
/// One blocked client's wait on its keys (<see cref="BlockedClients"/>): a change of any of them since the last
/// <see cref="WaitAsync"/> ends the next one at once, so a change between a try and the wait is never lost.
/// </summary>
public sealed class KeyWait : IDisposable
{
    private readonly BlockedClients _owner;
    private readonly Lock _lock = new();
    private TaskCompletionSource _changed = NewSignal();
    private int _disposed;

    internal KeyWait(BlockedClients owner, IReadOnlyList<byte[]> keys)
    {
        _owner = owner;
        Keys = keys;
    }

    internal IReadOnlyList<byte[]> Keys { get; }

    /// <summary>
    /// Waits for a change of a key, at most <paramref name="timeout"/> (infinite: until the change or the token);
    /// true when a key changed, false when the time ran out. Throws when <paramref name="cancellationToken"/> fires.
    /// </summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        Task changed;
        lock (_lock)
        {
            changed = _changed.Task;
        }

        try
        {
            await changed.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return false;
        }

        lock (_lock)
        {
            if (_changed.Task.IsCompleted)
            {
                _changed = NewSignal();
            }
        }

        return true;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _owner.Unregister(this);
        }
    }

    internal void Signal()
    {
        lock (_lock)
        {
            _changed.TrySetResult();
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
