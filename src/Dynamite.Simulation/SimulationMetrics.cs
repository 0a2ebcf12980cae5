using System.Diagnostics.Metrics;
using Dynamite.Cluster.Metrics;

namespace Dynamite.Simulation;

/// <summary>
/// The run's view of the nodes' metrics, from the same instruments a server exports: each node records into a
/// <see cref="ClusterMetrics"/> on a meter of its own (kept across its crashes, as a process's metrics would not be:
/// the run wants totals), and a listener of those meters only keeps every counter's total. Measurements arrive on
/// the scheduler's thread, one event at a time.
/// </summary>
public sealed class SimulationMetrics : IDisposable
{
    private readonly HashSet<Meter> _meters = [];
    private readonly Dictionary<string, long> _totals = new(StringComparer.Ordinal);
    private readonly MeterListener _listener = new();

    public SimulationMetrics()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (_meters.Contains(instrument.Meter))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
            _totals[instrument.Name] = _totals.GetValueOrDefault(instrument.Name) + value);
        _listener.Start();
    }

    /// <summary>A node's metrics, on a meter this listener follows.</summary>
    public ClusterMetrics ForNode(string node)
    {
        var meter = new Meter("Dynamite.Simulation." + node);
        _meters.Add(meter);
        return new ClusterMetrics(meter);
    }

    /// <summary>The total of one counter over every node, e.g. <see cref="ClusterMetrics.HintsReplayed"/>.</summary>
    public long Total(string instrument) => _totals.GetValueOrDefault(instrument);

    public void Dispose()
    {
        _listener.Dispose();
        foreach (Meter meter in _meters)
        {
            meter.Dispose();
        }
    }
}
