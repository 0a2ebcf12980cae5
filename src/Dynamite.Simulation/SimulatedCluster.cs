using Dynamite.Cluster.Transport;

namespace Dynamite.Simulation;

/// <summary>The simulated nodes by peer address, and the network between them: what a node's peer connector dials.</summary>
public sealed class SimulatedCluster(SimulatedNetwork network)
{
    private readonly Dictionary<string, SimulatedNode> _byAddress = new(StringComparer.Ordinal);

    public SimulatedNetwork Network { get; } = network;

    public IReadOnlyCollection<SimulatedNode> Nodes => _byAddress.Values;

    public void Add(SimulatedNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        _byAddress.Add(node.Address, node);
    }

    public SimulatedNode? NodeAt(string address) => _byAddress.GetValueOrDefault(address);

    /// <summary>The connector of <paramref name="from"/>: one simulated client per address.</summary>
    public IPeerConnector ConnectorFor(SimulatedNode from) => new Connector(from, this);

    private sealed class Connector(SimulatedNode from, SimulatedCluster cluster) : IPeerConnector
    {
        public IPeerClient Connect(string address) => new SimulatedPeerClient(from, address, cluster);
    }
}
