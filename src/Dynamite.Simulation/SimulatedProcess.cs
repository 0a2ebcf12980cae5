namespace Dynamite.Simulation;

/// <summary>
/// The process a simulated node runs in: its event queue on the run's scheduler, its clock and its life. Everything
/// the node's production code does runs as events of this process, one at a time: a message delivered, a timer
/// fired, an await continued (the process is the <see cref="SynchronizationContext"/> those continuations post to).
/// <para>
/// Crash: the process dies; every event it still had (timers, continuations, messages on their way to it) is
/// dropped, because each event carries the epoch it was made in and the epoch moves on. Pause: events wait until
/// the pause ends, in order, as a stopped process's would. The clock's wall time may be skewed; its monotonic time
/// and its timers follow the scheduler.
/// </para>
/// </summary>
public sealed class SimulatedProcess : SynchronizationContext
{
    private readonly SimulatedNetwork _network;

    public SimulatedProcess(string name, SimulatedNetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        Name = name;
        _network = network;
        Clock = new SimulatedTimeProvider(this, network);
    }

    public string Name { get; }

    /// <summary>Bumped by every crash and start: an event stamped with another epoch is dropped.</summary>
    public int Epoch { get; private set; }

    public bool IsUp { get; private set; }

    public long PausedUntilMs { get; private set; }

    /// <summary>Offset of this process's wall clock (write timestamps, expiry); timers and the failure detector use monotonic time.</summary>
    public long ClockSkewMs { get; set; }

    /// <summary>The process's clock: the simulated time, skewed, with timers on the scheduler.</summary>
    public SimulatedTimeProvider Clock { get; }

    /// <summary>Events of this process that ran.</summary>
    public long EventsRun { get; private set; }

    public void Start()
    {
        Epoch++;
        IsUp = true;
        PausedUntilMs = 0;
    }

    public void Crash()
    {
        Epoch++;
        IsUp = false;
        PausedUntilMs = 0;
    }

    public void Pause(long untilMs) => PausedUntilMs = Math.Max(PausedUntilMs, untilMs);

    /// <summary>Ends a pause now; events held for the pause still run at its original end, in order.</summary>
    public void Resume() => PausedUntilMs = 0;

    /// <summary>Runs <paramref name="action"/> in this process after <paramref name="delayMs"/>, unless the process dies first.</summary>
    public void After(long delayMs, Action action)
    {
        int epoch = Epoch;
        _network.Schedule(delayMs, () => Run(epoch, action));
    }

    /// <summary>Runs <paramref name="action"/> in this process now if it is in epoch <paramref name="epoch"/> (later if paused).</summary>
    public void Run(int epoch, Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        if (!IsUp || epoch != Epoch)
        {
            return;
        }

        long now = _network.Clock.NowMs;
        if (PausedUntilMs > now)
        {
            _network.Schedule(PausedUntilMs - now, () => Run(epoch, action));
            return;
        }

        SynchronizationContext? previous = Current;
        SetSynchronizationContext(this);
        try
        {
            EventsRun++;
            action();
        }
        finally
        {
            SetSynchronizationContext(previous);
        }
    }

    /// <summary>An await's continuation (or a yield): queued as an event of this process, now.</summary>
    public override void Post(SendOrPostCallback d, object? state)
    {
        if (_network.IsSchedulerThread(Name))
        {
            After(0, () => d(state));
        }
    }

    public override void Send(SendOrPostCallback d, object? state) =>
        throw new NotSupportedException("A simulated process runs one event at a time; nothing may wait for it synchronously.");

    public override SynchronizationContext CreateCopy() => this;
}
