namespace Dynamite.Cluster.AntiEntropy;

/// <summary>What `dynamite status` shows per partition: its last exchange and what exchanges repaired.</summary>
/// <param name="LastExchangeUnixMs">When the last exchange of the partition finished.</param>
/// <param name="LastPeer">The peer of that exchange.</param>
/// <param name="LastKeysRepaired">Keys it repaired.</param>
/// <param name="TotalKeysRepaired">Keys all exchanges of the partition repaired since start.</param>
public sealed record PartitionExchangeStatus(long LastExchangeUnixMs, string LastPeer, int LastKeysRepaired, long TotalKeysRepaired);
