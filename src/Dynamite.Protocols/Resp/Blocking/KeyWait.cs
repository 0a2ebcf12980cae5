namespace Dynamite.Protocols.Resp.Blocking;

/// <summary>
/// One blocked client's wait on its keys (<see cref="BlockedClients"/>): a change of any of them since the last
/// <see cref="WaitAsync"/> ends the next one at once, so a change between a try and the wait is never lost.
/// </summary>
public sealed class KeyWait : IDisposable
{
    private readonly BlockedClients _owner;
    private readonly Lock _lock = new();
    private readonly List<byte[]> _wokenBy = [];
    private TaskCompletionSource _changed = NewSignal();
    private int _disposed;

    internal KeyWait(BlockedClients owner, IReadOnlyList<byte[]> keys, long clientId)
    {
        _owner = owner;
        Keys = keys;
        ClientId = clientId;
    }

    internal IReadOnlyList<byte[]> Keys { get; }

    internal long ClientId { get; }

    /// <summary>True once counted in <see cref="BlockedClients.Count"/>; guarded by the owner's lock.</summary>
    internal bool CountedBlocked { get; set; }

    /// <summary>Set by CLIENT UNBLOCK: the wait is over, answered as a timeout or (true) with an UNBLOCKED error.</summary>
    public bool? UnblockedWithError { get; private set; }

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

    /// <summary>Ends the wait (CLIENT UNBLOCK); called under the owner's lock.</summary>
    internal void Unblock(bool withError)
    {
        lock (_lock)
        {
            UnblockedWithError = withError;
            _changed.TrySetResult();
        }
    }

    /// <summary>The first try found nothing: from now on the client counts as blocked (INFO's blocked_clients).</summary>
    public void MarkBlocked() => _owner.MarkBlocked(this);

    /// <summary>After a try that a wake-up led to: the next client blocked on the same keys gets its turn.</summary>
    public void PassOn() => _owner.PassOn(this);

    /// <summary>Called under the owner's lock.</summary>
    internal void Signal(byte[] key)
    {
        lock (_lock)
        {
            if (!_wokenBy.Exists(k => k.AsSpan().SequenceEqual(key)))
            {
                _wokenBy.Add(key);
            }

            _changed.TrySetResult();
        }
    }

    /// <summary>The keys whose changes woke this wait since the last call; called under the owner's lock.</summary>
    internal List<byte[]> TakeWokenBy()
    {
        lock (_lock)
        {
            List<byte[]> woken = [.. _wokenBy];
            _wokenBy.Clear();
            return woken;
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
