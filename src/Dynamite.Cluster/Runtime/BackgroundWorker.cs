using Microsoft.Extensions.Logging;

namespace Dynamite.Cluster.Runtime;

/// <summary>
/// The one way a node runs a background loop (hint replay, gossip, seeding, failure detection, anti-entropy,
/// partition handoff, expiry): run a step, then wait for the interval or a <see cref="Wake"/>, until stopped.
/// <para>
/// Time comes only from the injected <see cref="TimeProvider"/>: the interval (or the wait a step asks for) is one
/// timer of that provider, re-armed before every wait, so a test or the simulation that advances a fake clock drives the loop, and
/// nothing waits on the wall clock. A step that throws is logged and the next one retries (a loop never dies of
/// one bad round); cancellation during <see cref="StopAsync"/> ends it.
/// </para>
/// <para>
/// A wake-up that arrives while a step runs is kept: the next wait returns at once, so work signalled during a
/// step is never left for a whole interval. Stopping is bounded: <see cref="StopAsync"/> cancels the step's token
/// and waits at most the stop timeout for it to notice; <see cref="DisposeAsync"/> stops and is idempotent.
/// </para>
/// Threading: <see cref="Wake"/>, <see cref="StopAsync"/> and <see cref="DisposeAsync"/> are safe from any thread;
/// steps never overlap. Continuations run where the awaited work completes (the thread pool in a server; the
/// node's own event queue in the simulation, whose synchronization context they capture).
/// </summary>
public sealed class BackgroundWorker : IAsyncDisposable
{
    /// <summary>How long <see cref="StopAsync"/> waits for a running step by default.</summary>
    public static readonly TimeSpan DefaultStopTimeout = TimeSpan.FromSeconds(10);

    /// <summary>A step after which the worker waits its interval; null when <see cref="_timedStep"/> is set.</summary>
    private readonly Func<CancellationToken, Task>? _step;

    /// <summary>A step that returns how long to wait before the next; null when <see cref="_step"/> is set.</summary>
    private readonly Func<CancellationToken, Task<TimeSpan>>? _timedStep;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly TimeSpan _stopTimeout;
    private readonly bool _stepAtStart;
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stopping = new();

    // Completed by Wake (or the interval timer, or StopAsync); replaced under _lock when a wait consumes it.
    private TaskCompletionSource _signal = NewSignal();
    private ITimer? _timer;
    private Task? _running;
    private long _rounds;
    private int _stopped;
    private int _waiting;

    /// <param name="name">What the loop does, for its log lines.</param>
    /// <param name="interval">Time between the end of one step and the start of the next when nobody wakes it.</param>
    /// <param name="step">One round of work; gets a token cancelled when the worker stops.</param>
    /// <param name="clock">Every wait of the loop is a timer of this provider.</param>
    /// <param name="logger">Failed steps, and a stop that timed out.</param>
    /// <param name="stepAtStart">True: the first step runs at once; false: after the first interval (or wake-up).</param>
    /// <param name="stopTimeout">Longest wait for a running step when stopping (default <see cref="DefaultStopTimeout"/>).</param>
    public BackgroundWorker(string name, TimeSpan interval, Func<CancellationToken, Task> step, TimeProvider clock, ILogger logger, bool stepAtStart = false, TimeSpan? stopTimeout = null)
        : this(name, interval, clock, logger, stepAtStart, stopTimeout)
    {
        ArgumentNullException.ThrowIfNull(step);
        _step = step;
    }

    /// <summary>
    /// A loop whose step chooses its own next wait: <paramref name="step"/> returns how long to wait before the next
    /// step when nobody wakes the worker (zero or less: at once), so a loop with nothing to do can wait longer than
    /// one with work (the expiry sweeper on a node without expiring keys). A step that throws waits
    /// <paramref name="interval"/>, as does the first wait without <paramref name="stepAtStart"/>.
    /// </summary>
    public BackgroundWorker(string name, TimeSpan interval, Func<CancellationToken, Task<TimeSpan>> step, TimeProvider clock, ILogger logger, bool stepAtStart = false, TimeSpan? stopTimeout = null)
        : this(name, interval, clock, logger, stepAtStart, stopTimeout)
    {
        ArgumentNullException.ThrowIfNull(step);
        _timedStep = step;
    }

    private BackgroundWorker(string name, TimeSpan interval, TimeProvider clock, ILogger logger, bool stepAtStart, TimeSpan? stopTimeout)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(logger);
        Name = name;
        Interval = interval;
        _clock = clock;
        _logger = logger;
        _stepAtStart = stepAtStart;
        _stopTimeout = stopTimeout ?? DefaultStopTimeout;
    }

    public string Name { get; }

    public TimeSpan Interval { get; }

    /// <summary>Steps that ran to the end (successfully or not).</summary>
    public long Rounds => Interlocked.Read(ref _rounds);

    public bool IsRunning => _running is { IsCompleted: false };

    /// <summary>True while the loop waits for its interval (its timer armed) or a wake-up, between two steps.</summary>
    public bool IsWaiting => Volatile.Read(ref _waiting) != 0;

    /// <summary>Starts the loop. Throws when it was started or stopped before.</summary>
    public void Start()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_stopped != 0, this);
            if (_running is not null)
            {
                throw new InvalidOperationException($"The {Name} worker is already running.");
            }

            _timer = _clock.CreateTimer(static state => ((BackgroundWorker)state!).Wake(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _running = RunAsync(_stopping.Token);
        }
    }

    /// <summary>Runs the next step now (or right after the running one), instead of at the end of the interval.</summary>
    public void Wake()
    {
        TaskCompletionSource signal;
        lock (_lock)
        {
            signal = _signal;
        }

        signal.TrySetResult();
    }

    /// <summary>Stops the loop: cancels the running step and waits for it, at most the stop timeout. Idempotent.</summary>
    public async Task StopAsync()
    {
        Task? running;
        lock (_lock)
        {
            if (_stopped != 0)
            {
                running = null;
            }
            else
            {
                _stopped = 1;
                running = _running;
            }
        }

        if (running is null)
        {
            return;
        }

        await _stopping.CancelAsync();
        Wake();
        using var timeout = new CancellationTokenSource();
        Task finished = await Task.WhenAny(running, Task.Delay(_stopTimeout, _clock, timeout.Token));
        await timeout.CancelAsync();
        if (finished != running)
        {
            _logger.LogWarning("The {Worker} worker did not stop within {Timeout}; leaving it behind", Name, _stopTimeout);
        }

        if (_timer is not null)
        {
            await _timer.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async Task RunAsync(CancellationToken stopping)
    {
        // Off the caller's stack: Start never runs a step itself.
        await Task.Yield();
        if (!_stepAtStart && !await WaitAsync(Interval, stopping))
        {
            return;
        }

        while (!stopping.IsCancellationRequested)
        {
            TimeSpan wait = Interval;
            try
            {
                if (_step is not null)
                {
                    await _step(stopping);
                }
                else
                {
                    wait = await _timedStep!(stopping);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                // One failed round (a peer gone, a file not written) must not end the loop: the next one retries.
                _logger.LogError(exception, "The {Worker} worker's step failed; the next one retries", Name);
            }

            Interlocked.Increment(ref _rounds);
            if (!await WaitAsync(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, stopping))
            {
                return;
            }
        }
    }

    /// <summary>Waits for <paramref name="interval"/> or a wake-up; false when the worker is stopping.</summary>
    private async Task<bool> WaitAsync(TimeSpan interval, CancellationToken stopping)
    {
        Task signalled;
        lock (_lock)
        {
            signalled = _signal.Task;
        }

        if (!signalled.IsCompleted)
        {
            _timer!.Change(interval, Timeout.InfiniteTimeSpan);
            Volatile.Write(ref _waiting, 1);
            await signalled;
            Volatile.Write(ref _waiting, 0);

            // Woken early: the armed interval must not fire during the next step and cut the wait after it short.
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        lock (_lock)
        {
            if (ReferenceEquals(_signal.Task, signalled))
            {
                _signal = NewSignal();
            }
        }

        return !stopping.IsCancellationRequested;
    }
}
