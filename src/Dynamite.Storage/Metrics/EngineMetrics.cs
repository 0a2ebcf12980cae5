using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Dynamite.Storage.Metrics;

/// <summary>
/// One engine's side of <see cref="StorageMetrics"/>: the operation histogram with this engine's tags made once,
/// so recording is a timestamp difference and one <see cref="Histogram{T}.Record(T, in TagList)"/> (no allocation).
/// Thread-safe.
/// </summary>
public sealed class EngineMetrics
{
    private readonly Histogram<double> _duration;
    private readonly TagList _write;
    private readonly TagList _commit;

    internal EngineMetrics(Histogram<double> duration, string store, string engine)
    {
        _duration = duration;
        _write = Tags(store, engine, "write");
        _commit = Tags(store, engine, "commit");
    }

    /// <summary>Whether anything listens; callers skip taking timestamps when nothing does.</summary>
    public bool Enabled => _duration.Enabled;

    /// <summary>A write (one atomic operation) that started at <paramref name="startTimestamp"/> (<see cref="Stopwatch.GetTimestamp"/>) is done.</summary>
    public void WriteDone(long startTimestamp) => _duration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, in _write);

    /// <summary>A group commit that started at <paramref name="startTimestamp"/> is done.</summary>
    public void CommitDone(long startTimestamp) => _duration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, in _commit);

    private static TagList Tags(string store, string engine, string operation) =>
        new([new("store", store), new("engine", engine), new("op", operation)]);
}
