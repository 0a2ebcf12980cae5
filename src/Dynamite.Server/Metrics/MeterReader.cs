using System.Diagnostics.Metrics;

namespace Dynamite.Server.Metrics;

/// <summary>
/// Keeps running totals of every instrument of one <see cref="Meter"/> (a <see cref="MeterListener"/> enabled for
/// that meter's instruments only, so several nodes in one process never mix), for the views that print numbers
/// rather than scrape them: INFO and the admin status. Counters and up-down counters are summed, histograms keep
/// their count and sum, observable instruments are asked for their current values when a snapshot is taken.
/// <para>
/// On the request path a measurement finds its series by comparing tags (a handful, made once by the recorder)
/// and adds with <see cref="Interlocked"/>: no lock and, once a series exists, no allocation. A new tag
/// combination copies the series list under a lock.
/// </para>
/// </summary>
public sealed class MeterReader : IDisposable
{
    private readonly Meter _meter;
    private readonly MeterListener _listener = new();
    private readonly List<InstrumentTotals> _instruments = [];
    private readonly Func<Instrument, bool> _include;
    private readonly Lock _snapshotLock = new();
    private long _generation;

    /// <param name="meter">The meter whose instruments are totalled.</param>
    /// <param name="include">Which of them to total (default: all). A measurement of an instrument left out costs the
    /// request path nothing here; the node leaves out the histograms no view prints (Prometheus scrapes them
    /// through its own listener).</param>
    public MeterReader(Meter meter, Func<Instrument, bool>? include = null)
    {
        ArgumentNullException.ThrowIfNull(meter);
        _meter = meter;
        _include = include ?? (static _ => true);
        _listener.InstrumentPublished = OnInstrumentPublished;
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((InstrumentTotals)state!).Add(value, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((InstrumentTotals)state!).Add(value, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((InstrumentTotals)state!).Add(value, tags));
        _listener.Start();
    }

    /// <summary>Every instrument's series now; observable instruments are read first, and only what they report now is in it.</summary>
    public MetricsSnapshot Snapshot()
    {
        lock (_snapshotLock)
        {
            _generation++;
            InstrumentTotals[] instruments;
            lock (_instruments)
            {
                instruments = [.. _instruments];
            }

            foreach (InstrumentTotals totals in instruments)
            {
                totals.Generation = _generation;
            }

            _listener.RecordObservableInstruments();
            var series = new Dictionary<string, List<MetricSeries>>(StringComparer.Ordinal);
            foreach (InstrumentTotals totals in instruments)
            {
                if (!series.TryGetValue(totals.Name, out List<MetricSeries>? list))
                {
                    list = [];
                    series.Add(totals.Name, list);
                }

                totals.CopyTo(list, _generation);
            }

            return new MetricsSnapshot(series);
        }
    }

    public void Dispose() => _listener.Dispose();

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        if (!ReferenceEquals(instrument.Meter, _meter) || !_include(instrument))
        {
            return;
        }

        var totals = new InstrumentTotals(instrument);
        lock (_instruments)
        {
            _instruments.Add(totals);
        }

        listener.EnableMeasurementEvents(instrument, totals);
    }

    /// <summary>One instrument's series. <see cref="Add(long, ReadOnlySpan{KeyValuePair{string, object?}})"/> runs on any thread.</summary>
    private sealed class InstrumentTotals(Instrument instrument)
    {
        private readonly bool _observed = instrument.IsObservable;
        private readonly bool _histogram = instrument.GetType().IsGenericType && instrument.GetType().GetGenericTypeDefinition() == typeof(Histogram<>);
        private readonly Lock _adding = new();
        private Series[] _series = [];

        public string Name { get; } = instrument.Name;

        /// <summary>The snapshot being taken: observed values are stamped with it, and older ones left out.</summary>
        public long Generation { get; set; }

        /// <summary>A measurement of a long or int instrument: added, or for an observable instrument its value now.</summary>
        public void Add(long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            Series series = Find(tags);
            if (_observed)
            {
                Volatile.Write(ref series.Long, value);
                series.Generation = Generation;
            }
            else
            {
                Interlocked.Add(ref series.Long, value);
                Counted(series);
            }
        }

        /// <summary>A measurement of a double instrument, as <see cref="Add(long, ReadOnlySpan{KeyValuePair{string, object?}})"/>.</summary>
        public void Add(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            Series series = Find(tags);
            if (_observed)
            {
                Volatile.Write(ref series.Double, value);
                series.Generation = Generation;
                return;
            }

            double seen = Volatile.Read(ref series.Double);
            double found;
            while (!(found = Interlocked.CompareExchange(ref series.Double, seen + value, seen)).Equals(seen))
            {
                seen = found;
            }

            Counted(series);
        }

        public void CopyTo(List<MetricSeries> list, long generation)
        {
            foreach (Series series in Volatile.Read(ref _series))
            {
                if (_observed && series.Generation != generation)
                {
                    // Not reported by this observation (a node whose hints are all delivered, say): gone.
                    continue;
                }

                double value = Volatile.Read(ref series.Long) + Volatile.Read(ref series.Double);
                long count = _histogram ? Interlocked.Read(ref series.Count) : 0;
                list.Add(new MetricSeries(series.Tags, value, count));
            }
        }

        private void Counted(Series series)
        {
            if (_histogram)
            {
                Interlocked.Increment(ref series.Count);
            }
        }

        private Series Find(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (Series series in Volatile.Read(ref _series))
            {
                if (series.Matches(tags))
                {
                    return series;
                }
            }

            lock (_adding)
            {
                foreach (Series series in _series)
                {
                    if (series.Matches(tags))
                    {
                        return series;
                    }
                }

                var added = new Series(tags.ToArray());
                Volatile.Write(ref _series, [.. _series, added]);
                return added;
            }
        }
    }

    /// <summary>One tag combination's totals: a long and a double sum (an instrument uses one of them) and, for a histogram, a count.</summary>
    private sealed class Series(KeyValuePair<string, object?>[] tags)
    {
        // Fields, so Interlocked can update them in place.
        public long Long;
        public double Double;
        public long Count;
        public long Generation;

        public KeyValuePair<string, object?>[] Tags { get; } = tags;

        /// <summary>The same tags in any order (a recorder uses one order, so the first comparison usually decides).</summary>
        public bool Matches(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (tags.Length != Tags.Length)
            {
                return false;
            }

            foreach (KeyValuePair<string, object?> tag in tags)
            {
                bool found = false;
                foreach (KeyValuePair<string, object?> own in Tags)
                {
                    if (string.Equals(own.Key, tag.Key, StringComparison.Ordinal) && Equals(own.Value, tag.Value))
                    {
                        found = true;
                        break;
                    }
                }

                if (!found)
                {
                    return false;
                }
            }

            return true;
        }
    }
}
