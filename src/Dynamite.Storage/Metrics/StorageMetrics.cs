using System.Diagnostics.Metrics;

namespace Dynamite.Storage.Metrics;

/// <summary>
/// The storage engines' instruments on the node's meter: how long engine operations take, and how many keys each
/// store holds. One per node (the composition root makes it); each engine records through the
/// <see cref="EngineMetrics"/> that <see cref="ForStore"/> gives it, whose tags are made once.
/// </summary>
public sealed class StorageMetrics
{
    /// <summary>Seconds one engine operation took; tags <c>store</c> (data, hints), <c>engine</c>, <c>op</c>.</summary>
    public const string OperationDuration = "dynamite.storage.operation.duration";

    /// <summary>Keys a store holds (a gauge); tag <c>store</c>.</summary>
    public const string Keys = "dynamite.storage.keys";

    /// <summary>
    /// Bucket bounds in seconds: a memory write takes microseconds, a SQLite group commit with fsync milliseconds,
    /// one stuck behind a checkpoint a second.
    /// </summary>
    public static readonly IReadOnlyList<double> DurationBuckets =
        [0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

    private readonly Meter _meter;
    private readonly Histogram<double> _duration;

    public StorageMetrics(Meter meter)
    {
        ArgumentNullException.ThrowIfNull(meter);
        _meter = meter;
        _duration = meter.CreateHistogram(
            OperationDuration, "s", "Time one storage engine operation took (write: queued to acknowledged; commit: one group commit)",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
    }

    /// <summary>The instruments of one engine: <paramref name="store"/> names what it holds (data, hints), <paramref name="engine"/> its kind.</summary>
    public EngineMetrics ForStore(string store, string engine) => new(_duration, store, engine);

    /// <summary>Reports <paramref name="engine"/>'s key count as <see cref="Keys"/> with the tag <c>store</c> = <paramref name="store"/>.</summary>
    public void ObserveKeys(string store, IStorageEngine engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        var tag = new KeyValuePair<string, object?>("store", store);
        _meter.CreateObservableUpDownCounter(Keys, () => new Measurement<long>(engine.KeyCount, tag), "{key}", "Keys a store holds");
    }
}
