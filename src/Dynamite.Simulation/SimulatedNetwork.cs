using Dynamite.Core.Membership;

namespace Dynamite.Simulation;

/// <summary>
/// The scheduler and the network of a run: a priority queue of timed events ordered by (time, sequence), so
/// ties run in the order they were scheduled, and a lossy, duplicating, reordering, partitionable link between
/// every pair of nodes. Every random choice of the run comes from the one seeded <see cref="Random"/> here and
/// events run one at a time, so the same seed replays the same run exactly.
/// <para>
/// A partition is a set of blocked (from, to) pairs, checked when a message is sent: a message already on the
/// wire when a partition starts still arrives, as bytes already in a socket buffer would.
/// </para>
/// </summary>
public sealed class SimulatedNetwork
{
    private readonly PriorityQueue<Action, (long Time, long Sequence)> _events = new();
    private readonly HashSet<(NodeId From, NodeId To)> _blocked = [];
    private readonly SimulationOptions _options;
    private readonly Queue<string> _trace = new();
    private readonly int _schedulerThread = Environment.CurrentManagedThreadId;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _foreignWork = new();
    private readonly Queue<string> _unexpected = new();
    private long _sequence;

    public SimulatedNetwork(int seed, SimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Random = new Random(seed);
        _options = options;
    }

    public SimulatedClock Clock { get; } = new();

    /// <summary>The shortest link delay: how long a refused connection takes to be noticed.</summary>
    public long MinimumDelayMs => Math.Max(1, _options.MinDelayMs);

    /// <summary>The run's only source of randomness.</summary>
    public Random Random { get; }

    /// <summary>Message faults (loss, duplication, reordering) apply only while this is true; healing turns it off.</summary>
    public bool MessageFaultsActive { get; set; }

    public long MessagesSent { get; private set; }

    public long MessagesDropped { get; private set; }

    public long MessagesDuplicated { get; private set; }

    /// <summary>Requests the nodes' listeners handed over in runs of two or more (<see cref="SimulationOptions.PeerRequestRuns"/>).</summary>
    public long RequestsInRuns { get; private set; }

    public long EventsRun { get; private set; }

    public IReadOnlyCollection<string> Trace => _trace;

    public int BlockedLinks => _blocked.Count;

    /// <summary>
    /// Work that reached a simulated process from another thread (a real timer, the thread pool): it would make the
    /// run depend on the machine, so it is dropped and reported as a violation. Must stay empty.
    /// </summary>
    public IReadOnlyCollection<string> ForeignWork => _foreignWork;

    /// <summary>Exceptions the runtime threw at a client where it should have answered or refused (reported as violations).</summary>
    public IReadOnlyCollection<string> Unexpected => _unexpected;

    public void ReportUnexpected(string what) => _unexpected.Enqueue(what);

    /// <summary>True on the thread that runs the scheduler; otherwise records the intrusion and returns false.</summary>
    public bool IsSchedulerThread(string process)
    {
        if (Environment.CurrentManagedThreadId == _schedulerThread)
        {
            return true;
        }

        _foreignWork.Enqueue($"{process}: work posted from thread {Environment.CurrentManagedThreadId}\n{Environment.StackTrace}");
        return false;
    }

    /// <summary>Runs <paramref name="action"/> <paramref name="delayMs"/> from now.</summary>
    public void Schedule(long delayMs, Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        _events.Enqueue(action, (Clock.NowMs + Math.Max(0, delayMs), _sequence++));
    }

    /// <summary>
    /// Sends a message from <paramref name="from"/> to <paramref name="to"/>: <paramref name="deliver"/> runs at
    /// the receiver after the link's delay, unless the link is blocked or the message is lost; it may run twice.
    /// </summary>
    public void Send(NodeId from, NodeId to, Action deliver)
    {
        ArgumentNullException.ThrowIfNull(deliver);
        MessagesSent++;
        if (_blocked.Contains((from, to)))
        {
            MessagesDropped++;
            return;
        }

        bool faulty = MessageFaultsActive;
        if (faulty && (_options.Faults & FaultKinds.Loss) != 0 && Random.NextDouble() < _options.LossRate)
        {
            MessagesDropped++;
            return;
        }

        Schedule(NextDelay(faulty), deliver);
        if (faulty && (_options.Faults & FaultKinds.Duplication) != 0 && Random.NextDouble() < _options.DuplicationRate)
        {
            MessagesDuplicated++;
            Schedule(NextDelay(faulty), deliver);
        }
    }

    /// <summary>Counts a run of <paramref name="requests"/> handed over by a node's listener.</summary>
    public void CountRun(int requests) => RequestsInRuns += requests;

    public void Block(NodeId from, NodeId to) => _blocked.Add((from, to));

    public void Unblock(NodeId from, NodeId to) => _blocked.Remove((from, to));

    public void HealAllLinks() => _blocked.Clear();

    public bool IsBlocked(NodeId from, NodeId to) => _blocked.Contains((from, to));

    /// <summary>Runs events until simulated time reaches <paramref name="timeMs"/> (events at that time included).</summary>
    public void RunUntil(long timeMs)
    {
        while (_events.TryPeek(out _, out (long Time, long Sequence) at) && at.Time <= timeMs)
        {
            RunNext();
        }

        if (timeMs > Clock.NowMs)
        {
            Clock.AdvanceTo(timeMs);
        }
    }

    /// <summary>Runs events while <paramref name="condition"/> holds, up to <paramref name="deadlineMs"/>. True when the condition turned false in time.</summary>
    public bool RunWhile(Func<bool> condition, long deadlineMs)
    {
        ArgumentNullException.ThrowIfNull(condition);
        while (condition())
        {
            if (!_events.TryPeek(out _, out (long Time, long Sequence) at) || at.Time > deadlineMs)
            {
                RunUntil(deadlineMs);
                return !condition();
            }

            RunNext();
        }

        return true;
    }

    /// <summary>
    /// Runs events in steps of <paramref name="stepMs"/> until <paramref name="done"/> holds, up to <paramref name="deadlineMs"/>:
    /// for a condition too costly to test after every event. True when it held in time.
    /// </summary>
    public bool Poll(Func<bool> done, long stepMs, long deadlineMs)
    {
        ArgumentNullException.ThrowIfNull(done);
        while (!done())
        {
            if (Clock.NowMs >= deadlineMs)
            {
                return false;
            }

            RunUntil(Math.Min(deadlineMs, Clock.NowMs + stepMs));
        }

        return true;
    }

    /// <summary>Adds a line to the trace, stamped with the simulated time; only the last lines are kept.</summary>
    public void Log(string line)
    {
        _trace.Enqueue($"{Clock.ElapsedMs,7} {line}");
        while (_trace.Count > _options.TraceCapacity)
        {
            _trace.Dequeue();
        }
    }

    private void RunNext()
    {
        _events.TryDequeue(out Action? action, out (long Time, long Sequence) at);
        Clock.AdvanceTo(at.Time);
        EventsRun++;
        action!();
    }

    private long NextDelay(bool faulty)
    {
        long delay = Random.NextInt64(_options.MinDelayMs, _options.MaxDelayMs + 1);
        if (faulty && (_options.Faults & FaultKinds.Reordering) != 0 && Random.NextDouble() < _options.ReorderRate)
        {
            delay += Random.NextInt64(0, _options.MaxReorderDelayMs + 1);
        }

        return delay;
    }
}
