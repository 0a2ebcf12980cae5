using System.Diagnostics.Metrics;
using System.Reflection;
using Dynamite.Cluster.Metrics;
using Dynamite.Protocols.Resp;
using Dynamite.Server.Hosting;
using Dynamite.Storage;
using Dynamite.Storage.Metrics;

namespace Dynamite.Server.Metrics;

/// <summary>
/// One node's metrics: the <see cref="Meter"/> named <see cref="MeterName"/> that every instrument of the node is
/// created on, the instruments of each layer (<see cref="Resp"/>, <see cref="Cluster"/>, <see cref="Storage"/>),
/// and the <see cref="MeterReader"/> that INFO and the admin status read. The composition root makes one per node
/// and passes its parts in: nothing here is static, so several nodes in one process (tests) keep apart, and
/// <c>/metrics</c> (<see cref="Admin.PrometheusEndpoint"/>) exports only this meter's instruments.
/// </summary>
public sealed class NodeMetrics : IDisposable
{
    /// <summary>The meter's name, and so the prefix of every Prometheus metric name (<c>dynamite_</c>).</summary>
    public const string MeterName = "Dynamite";

    private static readonly string? Version =
        typeof(NodeMetrics).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0];

    public NodeMetrics()
    {
        Meter = new Meter(MeterName, Version);
        Resp = new RespMetrics(Meter);
        Cluster = new ClusterMetrics(Meter);
        Storage = new StorageMetrics(Meter);
        // INFO and the admin status read counters, gauges and one histogram (commandstats); every other histogram
        // (per replica request, per engine write) is for Prometheus only and would cost each request a lookup here.
        Reader = new MeterReader(Meter, static instrument => instrument is not Histogram<double> || instrument.Name == RespMetrics.CommandDuration);
    }

    public Meter Meter { get; }

    public RespMetrics Resp { get; }

    public ClusterMetrics Cluster { get; }

    public StorageMetrics Storage { get; }

    public MeterReader Reader { get; }

    /// <summary>The engine holding the node's data, with its writes timed and its keys counted.</summary>
    public EngineMetrics ForDataEngine(string engine) => Storage.ForStore("data", engine);

    /// <summary>The engine holding the hints a cluster node keeps for others.</summary>
    public EngineMetrics ForHintEngine(string engine) => Storage.ForStore("hints", engine);

    /// <summary>Registers the gauges that read the node's data engine.</summary>
    public void ObserveDataEngine(IStorageEngine engine) => Storage.ObserveKeys("data", engine);

    /// <summary>Registers the gauges that read a cluster node's parts (hints pending, writes in flight, handoff, trees).</summary>
    public void ObserveCluster(ClusterServices cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        Cluster.ObserveHintsPending(cluster.Hints.CountsByNode);
        Cluster.ObserveReplicaWritesInFlight(() => cluster.Coordinator.ReplicaWritesInFlight);
        Cluster.ObserveHandoffPartitionsPending(() => cluster.PartitionHandoff.Status.Pending);
        Cluster.ObserveTreeSize(() => cluster.Trees.ApproximateBytes);
    }

    public void Dispose()
    {
        Reader.Dispose();
        Meter.Dispose();
    }
}
