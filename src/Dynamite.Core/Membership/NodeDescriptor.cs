namespace Dynamite.Core.Membership;

/// <summary>
/// A member and its place in the topology (datacenter -> rack -> node). Placement keeps the
/// replicas of a partition on distinct racks, and each datacenter finds its own replicas, so every
/// member must name both. Datacenter and rack names compare ordinally.
/// </summary>
public sealed record NodeDescriptor(NodeId Id, string Datacenter, string Rack)
{
    public NodeId Id { get; } = Id.Value is null ? throw new ArgumentException("The node id must not be default.", nameof(Id)) : Id;

    public string Datacenter { get; } = RequireName(Datacenter, nameof(Datacenter));

    public string Rack { get; } = RequireName(Rack, nameof(Rack));

    public override string ToString() => $"{Id}@{Datacenter}/{Rack}";

    private static string RequireName(string value, string parameterName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(value, parameterName);
        return value;
    }
}
