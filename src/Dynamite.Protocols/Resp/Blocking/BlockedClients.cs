using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp.Blocking;

/// <summary>
/// The clients blocked on keys (BZPOPMIN, BZPOPMAX, BZMPOP), woken when a commit changes one of their keys, whoever
/// wrote it: a client here, a transaction, a script, or, on a cluster node, a replica write another node coordinated
/// (the engine reports every commit: <see cref="IKeyChangeListener"/>). A woken client runs its command again and blocks
/// again if it still finds nothing, so a wake-up is a hint, never a promise; the retry decides. At most one wait per
/// connection, so the registry is bounded by the connection limit.
/// </summary>
public sealed class BlockedClients : IKeyChangeListener
{
    private readonly Lock _lock = new();
    private readonly Dictionary<byte[], List<KeyWait>> _byKey = new(ByteArrayComparer.Instance);
    private readonly HashSet<byte[]> _heldChanges = new(ByteArrayComparer.Instance);
    private int _blocked;
    private int _holds;

    public bool IsListening => Volatile.Read(ref _blocked) > 0;

    /// <summary>Clients blocked now (INFO clients' blocked_clients).</summary>
    public int Count => Volatile.Read(ref _blocked);

    /// <summary>Starts waiting on <paramref name="keys"/>; dispose the wait to stop. Register before the first try, so no change is missed.</summary>
    public KeyWait Register(IReadOnlyList<byte[]> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var wait = new KeyWait(this, keys);
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

            _blocked++;
        }

        return wait;
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
        if (_byKey.TryGetValue(key, out List<KeyWait>? waits))
        {
            foreach (KeyWait wait in waits)
            {
                wait.Signal();
            }
        }
    }

    internal void Unregister(KeyWait wait)
    {
        lock (_lock)
        {
            foreach (byte[] key in wait.Keys)
            {
                if (_byKey.TryGetValue(key, out List<KeyWait>? waits) && waits.Remove(wait) && waits.Count == 0)
                {
                    _byKey.Remove(key);
                }
            }

            _blocked--;
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
