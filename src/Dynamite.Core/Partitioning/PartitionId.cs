namespace Dynamite.Core.Partitioning;

/// <summary>One of the 2^Q fixed partitions of the key space (Dynamo, strategy 3).</summary>
public readonly record struct PartitionId(int Value)
{
    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
