using System.Diagnostics;

namespace Dynamite.Cli.Bench;

/// <summary>
/// What the connections of one phase share: how many requests may still be issued (claimed a batch at a time),
/// until when, and the running totals the progress line shows.
/// </summary>
internal sealed class BenchRun
{
    private readonly long _limit;
    private readonly long _deadline;
    private long _issued;
    private long _completed;
    private long _errors;
    private volatile bool _stopped;

    /// <param name="limit">Most requests to issue (long.MaxValue: unbounded).</param>
    /// <param name="duration">Issue no new batch after this long from now (null: no deadline).</param>
    public BenchRun(long limit, TimeSpan? duration)
    {
        _limit = limit;
        _deadline = duration is { } d ? Stopwatch.GetTimestamp() + (long)(d.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
    }

    public long Completed => Volatile.Read(ref _completed);

    public long Errors => Volatile.Read(ref _errors);

    /// <summary>Stops issuing new batches (Ctrl-C); batches in flight finish.</summary>
    public void Stop() => _stopped = true;

    /// <summary>
    /// Claims up to <paramref name="most"/> requests; <paramref name="first"/> is the sequence number of the first
    /// (the key when populating). 0 when the run is over.
    /// </summary>
    public int Claim(int most, out long first)
    {
        first = 0;
        if (_stopped || (_deadline != long.MaxValue && Stopwatch.GetTimestamp() >= _deadline))
        {
            return 0;
        }

        long after = Interlocked.Add(ref _issued, most);
        first = after - most;
        if (first >= _limit)
        {
            return 0;
        }

        return (int)Math.Min(most, _limit - first);
    }

    public void Finished(int requests, int errors)
    {
        Interlocked.Add(ref _completed, requests);
        if (errors > 0)
        {
            Interlocked.Add(ref _errors, errors);
        }
    }
}
