using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp.Blocking;

/// <summary>
/// The clients blocked on keys (BZPOPMIN, BZPOPMAX, BZMPOP), woken when a commit changes one of their keys, whoever
/// wrote it: a client here, a transaction, a script, or, on a cluster node, a replica write another node coordinated
/// (the engine reports every commit: <see cref="IKeyChangeListener"/>). A woken client runs its command again and blocks
/// again if it still finds nothing, so a wake-up is a hint, never a promise; the retry decides. Clients blocked on one
/// key are woken one after another in the order they blocked, as Redis serves them: a change wakes the first, and each
/// passes the wake-up on to the next once its try is over (<see cref="KeyWait.PassOn"/>) or it stops waiting. At most
/// one wait per connection, so the registry is bounded by the connection limit.
/// </summary>
public sealed class BlockedClients : IKeyChangeListener
{
    private readonly Lock _lock = new();
    private readonly Dictionary<byte[], List<KeyWait>> _byKey = new(ByteArrayComparer.Instance);
    private readonly HashSet<byte[]> _heldChanges = new(ByteArrayComparer.Instance);
    private readonly Dictionary<long, KeyWait> _byClient = [];
    private readonly HashSet<KeyWait> _woken = [];
    private TaskCompletionSource? _settled;
    private int _wokenCount;
    private int _registered;
    private int _blocked;
    private int _holds;

    public bool IsListening => Volatile.Read(ref _registered) > 0;

    /// <summary>
    /// Clients blocked now (INFO clients' blocked_clients): registered and past a first try that found nothing, as Redis
    /// counts a client blocked only once its command could not be served at once.
    /// </summary>
    public int Count => Volatile.Read(ref _blocked);

    /// <summary>True while a woken client has not finished its try.</summary>
    public bool HasWakesInFlight => Volatile.Read(ref _wokenCount) > 0;

    /// <summary>
    /// Completes once every woken client has finished its try (and the ones they woke in turn): a write waits for it
    /// before its reply, so, as in Redis, the clients it unblocked are served before its client's next command runs.
    /// </summary>
    public Task WhenSettledAsync()
    {
        lock (_lock)
        {
            if (_woken.Count == 0)
            {
                return Task.CompletedTask;
            }

            _settled ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _settled.Task;
        }
    }

    /// <summary>Starts waiting on <paramref name="keys"/>; dispose the wait to stop. Register before the first try, so no change is missed.</summary>
    public KeyWait Register(IReadOnlyList<byte[]> keys, long clientId)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var wait = new KeyWait(this, keys, clientId);
        lock (_lock)
        {
            foreach (byte[] key in keys)
            {
                if (!_byKey.TryGetValue(key, out List<KeyWait>? waits))
                {
                    waits = [];
                    _byKey[key] = waits;
                }

                if (!waits.Contains(wait))
                {
                    waits.Add(wait);
                }
            }

            _registered++;
            _byClient[clientId] = wait;
        }

        return wait;
    }

    /// <summary>
    /// CLIENT UNBLOCK: ends the wait of client <paramref name="clientId"/> as if it timed out, or with an UNBLOCKED
    /// error; false when that client is not blocked.
    /// </summary>
    public bool TryUnblock(long clientId, bool withError)
    {
        lock (_lock)
        {
            if (!_byClient.TryGetValue(clientId, out KeyWait? wait))
            {
                return false;
            }

            wait.Unblock(withError);
            return true;
        }
    }

    public void OnChanged(byte[] key)
    {
        lock (_lock)
        {
            if (_holds > 0)
            {
                if (_byKey.ContainsKey(key))
                {
                    _heldChanges.Add(key);
                }

                return;
            }

            SignalLocked(key);
        }
    }

    /// <summary>
    /// Holds wake-ups until the returned scope ends: EXEC and a script run their commands as separate commits, and a
    /// client woken between them would see a state no other client may see in Redis (a ZADD undone by the DEL after it).
    /// Blocked clients then try again once, on the state after the whole transaction.
    /// </summary>
    public WakeHold HoldWakes()
    {
        lock (_lock)
        {
            _holds++;
        }

        return new WakeHold(this);
    }

    internal void Release()
    {
        lock (_lock)
        {
            if (--_holds > 0)
            {
                return;
            }

            foreach (byte[] key in _heldChanges)
            {
                SignalLocked(key);
            }

            _heldChanges.Clear();
        }
    }

    private void SignalLocked(byte[] key)
    {
        if (_byKey.TryGetValue(key, out List<KeyWait>? waits) && waits.Count > 0)
        {
            Wake(waits[0], key);
        }
    }

    private void Wake(KeyWait wait, byte[] key)
    {
        wait.Signal(key);
        if (_woken.Add(wait))
        {
            Volatile.Write(ref _wokenCount, _woken.Count);
        }
    }

    /// <summary><paramref name="wait"/>'s try is over; completes <see cref="WhenSettledAsync"/> when it was the last.</summary>
    private void SettleLocked(KeyWait wait)
    {
        if (!_woken.Remove(wait))
        {
            return;
        }

        Volatile.Write(ref _wokenCount, _woken.Count);
        if (_woken.Count == 0 && _settled is { } settled)
        {
            _settled = null;
            settled.TrySetResult();
        }
    }

    private void PassOnLocked(KeyWait wait)
    {
        foreach (byte[] key in wait.TakeWokenBy())
        {
            if (_byKey.TryGetValue(key, out List<KeyWait>? waits))
            {
                int at = waits.IndexOf(wait);
                if (at >= 0 && at + 1 < waits.Count)
                {
                    Wake(waits[at + 1], key);
                }
            }
        }
    }

    /// <summary>The first try found nothing: the client now counts as blocked.</summary>
    internal void MarkBlocked(KeyWait wait)
    {
        lock (_lock)
        {
            if (!wait.CountedBlocked)
            {
                wait.CountedBlocked = true;
                _blocked++;
            }
        }
    }

    /// <summary>Wakes the client blocked after <paramref name="wait"/> on each key that woke it.</summary>
    internal void PassOn(KeyWait wait)
    {
        lock (_lock)
        {
            PassOnLocked(wait);
            SettleLocked(wait);
        }
    }

    internal void Unregister(KeyWait wait)
    {
        lock (_lock)
        {
            // What woke this client may be there for the next one too.
            PassOnLocked(wait);
            SettleLocked(wait);
            foreach (byte[] key in wait.Keys)
            {
                if (_byKey.TryGetValue(key, out List<KeyWait>? waits) && waits.Remove(wait) && waits.Count == 0)
                {
                    _byKey.Remove(key);
                }
            }

            _registered--;
            if (wait.CountedBlocked)
            {
                _blocked--;
            }

            if (_byClient.TryGetValue(wait.ClientId, out KeyWait? current) && ReferenceEquals(current, wait))
            {
                _byClient.Remove(wait.ClientId);
            }
        }
    }
}

/// <summary>A hold on wake-ups (<see cref="BlockedClients.HoldWakes"/>); disposing it releases them.</summary>
public sealed class WakeHold(BlockedClients owner) : IDisposable
{
    private int _released;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            owner.Release();
        }
    }
}
