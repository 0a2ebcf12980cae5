namespace Dynamite.Protocols.Resp.PubSub;

/// <summary>
/// The connections one delivery round (a PUBLISH, or a batch relayed from another node) queued frames for, woken once
/// when the round ends: a subscriber gets every message of the round in one write and one flush instead of one each,
/// and its loop runs on the thread pool, not on the publisher's thread, so subscribers are written in parallel.
/// </summary>
public sealed class WakeList
{
    [ThreadStatic]
    private static WakeList? _current;

    private readonly List<Action> _wakes = [];

    /// <summary>This thread's list (a round never spans threads: it is filled and woken without awaiting).</summary>
    public static WakeList Rent()
    {
        WakeList list = _current ?? new WakeList();
        _current = null;
        return list;
    }

    /// <summary>Connections waiting for the round to end.</summary>
    public int Count => _wakes.Count;

    public void Add(Action wake) => _wakes.Add(wake);

    /// <summary>Wakes every connection added, then returns the list to this thread.</summary>
    public void WakeAllAndReturn()
    {
        foreach (Action wake in _wakes)
        {
            Schedule(wake);
        }

        _wakes.Clear();
        _current = this;
    }

    /// <summary>Wakes one connection on the thread pool.</summary>
    public static void Schedule(Action wake) => ThreadPool.UnsafeQueueUserWorkItem(static w => WakeQuietly(w), wake, preferLocal: false);

    /// <summary>A connection that closed meanwhile has nothing to wake: its transport may refuse, which must not end the process.</summary>
    private static void WakeQuietly(Action wake)
    {
        try
        {
            wake();
        }
        catch (InvalidOperationException)
        {
            // ObjectDisposedException included.
        }
    }
}
