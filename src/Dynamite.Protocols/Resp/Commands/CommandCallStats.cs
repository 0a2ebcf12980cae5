using System.Diagnostics;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// One command's counts for INFO commandstats, as redis-server keeps them: calls, the time they took, calls refused
/// before they ran (arity, authentication, a busy script) and calls that answered an error. Connections run on every
/// core, so the counts are striped by processor (one stripe per core, each its own object) and summed when read:
/// counting a call costs an uncontended interlocked add.
/// </summary>
internal sealed class CommandCallStats
{
    private readonly Stripe[] _stripes = [.. Enumerable.Range(0, Environment.ProcessorCount).Select(_ => new Stripe())];

    /// <summary>A call that ran, from <paramref name="startTimestamp"/> (<see cref="Stopwatch.GetTimestamp"/>) to now.</summary>
    public void RecordCall(long startTimestamp, bool failed)
    {
        Stripe stripe = _stripes[Thread.GetCurrentProcessorId() % _stripes.Length];
        Interlocked.Increment(ref stripe.Calls);
        Interlocked.Add(ref stripe.Ticks, Stopwatch.GetTimestamp() - startTimestamp);
        if (failed)
        {
            Interlocked.Increment(ref stripe.Failed);
        }
    }

    /// <summary>A call refused before it ran.</summary>
    public void RecordRejected() => Interlocked.Increment(ref _stripes[Thread.GetCurrentProcessorId() % _stripes.Length].Rejected);

    /// <summary>The sums: calls, microseconds, rejected calls, failed calls.</summary>
    public (long Calls, long Microseconds, long Rejected, long Failed) Read()
    {
        long calls = 0, ticks = 0, rejected = 0, failed = 0;
        foreach (Stripe stripe in _stripes)
        {
            calls += Interlocked.Read(ref stripe.Calls);
            ticks += Interlocked.Read(ref stripe.Ticks);
            rejected += Interlocked.Read(ref stripe.Rejected);
            failed += Interlocked.Read(ref stripe.Failed);
        }

        return (calls, (long)(ticks * (1_000_000.0 / Stopwatch.Frequency)), rejected, failed);
    }

    private sealed class Stripe
    {
        public long Calls;
        public long Ticks;
        public long Rejected;
        public long Failed;
    }
}
