namespace Dynamite.Protocols.Resp.Isolation;

/// <summary>
/// What makes <c>EXEC</c> and scripts isolated on a node, as redis-server's single thread makes them: every client
/// command runs holding the gate shared, a transaction or a script holds it exclusively, so no other client's command
/// runs between its commands. An async reader-writer lock, first come first served (a command arriving while a
/// transaction waits queues behind it, so a stream of commands cannot starve a transaction, nor transactions the
/// commands queued between them). Entering shared while nobody waits is two atomic operations, no lock and no allocation.
/// <para>
/// Every wait is bounded: a waiter polls every <see cref="PollInterval"/> whether its caller gives up (a script
/// running past <c>lua-time-limit</c> answers the waiting clients BUSY, as redis-server does) and gives up after
/// the longest wait it was given. Thread-safe.
/// </para>
/// </summary>
internal sealed class IsolationGate
{
    /// <summary>How often a waiter asks whether its caller gives up.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    private const int Exclusive = -1;

    private readonly Lock _lock = new();

    /// <summary>Waiters in arrival order; changed under <see cref="_lock"/>.</summary>
    private readonly LinkedList<Waiter> _waiters = new();

    /// <summary>Holders: a count of shared ones, 0 when free, <see cref="Exclusive"/> while one holds it exclusively.</summary>
    private int _state;

    /// <summary>How many wait (<see cref="_waiters"/>' count), readable without the lock: the fast path enters only when 0.</summary>
    private int _waiting;

    /// <summary>Shared holders now (0 while free or held exclusively); for tests and INFO.</summary>
    public int SharedHolders => Math.Max(0, Volatile.Read(ref _state));

    public bool IsHeldExclusively => Volatile.Read(ref _state) == Exclusive;

    /// <summary>Enters shared without waiting: true when nobody holds it exclusively and nobody waits.</summary>
    public bool TryEnterShared() => Volatile.Read(ref _waiting) == 0 && TryAddShared();

    public void ExitShared()
    {
        int left = Interlocked.Decrement(ref _state);
        if (left < 0)
        {
            throw new InvalidOperationException("The isolation gate was left shared more often than it was entered.");
        }

        // The decrement and the waiter count are both full fences: a waiter that registered before this read is seen
        // here, and one registering after it sees the gate free and takes it itself.
        if (left == 0 && Volatile.Read(ref _waiting) != 0)
        {
            lock (_lock)
            {
                GrantLocked();
            }
        }
    }

    public void ExitExclusive()
    {
        lock (_lock)
        {
            if (Interlocked.CompareExchange(ref _state, 0, Exclusive) != Exclusive)
            {
                throw new InvalidOperationException("The isolation gate is not held exclusively.");
            }

            GrantLocked();
        }
    }

    /// <summary>
    /// Enters shared or exclusively, waiting behind those before it. False when <paramref name="giveUp"/> said so at a
    /// poll, <paramref name="maxWait"/> passed, or <paramref name="cancellationToken"/> was cancelled; the caller then
    /// holds nothing.
    /// </summary>
    public async ValueTask<bool> EnterAsync(bool exclusive, Func<bool>? giveUp, TimeSpan maxWait, TimeProvider time, CancellationToken cancellationToken)
    {
        Waiter waiter;
        lock (_lock)
        {
            if (_waiters.Count == 0 && TryTakeLocked(exclusive))
            {
                return true;
            }

            waiter = new Waiter(exclusive);
            waiter.Node = _waiters.AddLast(waiter);
            Interlocked.Increment(ref _waiting);

            // A holder may have left between the check above and the count: grant now rather than wait for a next exit.
            GrantLocked();
        }

        long started = time.GetTimestamp();
        while (true)
        {
            TimeSpan left = maxWait - time.GetElapsedTime(started);
            bool stop = left <= TimeSpan.Zero || cancellationToken.IsCancellationRequested || (giveUp?.Invoke() ?? false);
            if (!stop)
            {
                try
                {
                    await waiter.Task.WaitAsync(left < PollInterval ? left : PollInterval, time, cancellationToken).ConfigureAwait(false);
                    return true;
                }
                catch (TimeoutException)
                {
                    continue;
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                }
            }

            lock (_lock)
            {
                if (waiter.Node?.List is not null)
                {
                    Remove(waiter);
                    // It may have been the head that others queued behind.
                    GrantLocked();
                    return false;
                }
            }

            // Granted as it gave up: it holds the gate now, so the grant stands.
            return true;
        }
    }

    /// <summary>Hands the gate to the waiters at the head of the queue that it can take now. Under <see cref="_lock"/>.</summary>
    private void GrantLocked()
    {
        while (_waiters.First is { } first)
        {
            Waiter head = first.Value;
            if (!TryTakeLocked(head.Exclusive))
            {
                return;
            }

            Remove(head);
            head.TrySetResult();
            if (head.Exclusive)
            {
                return;
            }
        }
    }

    private bool TryTakeLocked(bool exclusive) =>
        exclusive ? Interlocked.CompareExchange(ref _state, Exclusive, 0) == 0 : TryAddShared();

    /// <summary>One more shared holder, unless it is held exclusively.</summary>
    private bool TryAddShared()
    {
        int state = Volatile.Read(ref _state);
        while (state >= 0)
        {
            int seen = Interlocked.CompareExchange(ref _state, state + 1, state);
            if (seen == state)
            {
                return true;
            }

            state = seen;
        }

        return false;
    }

    private void Remove(Waiter waiter)
    {
        _waiters.Remove(waiter.Node!);
        Interlocked.Decrement(ref _waiting);
    }

    private sealed class Waiter(bool exclusive) : TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public bool Exclusive { get; } = exclusive;

        public LinkedListNode<Waiter>? Node { get; set; }
    }
}
