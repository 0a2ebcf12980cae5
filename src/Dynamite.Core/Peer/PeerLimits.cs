namespace Dynamite.Core.Peer;

/// <summary>
/// Size limits every payload decoder enforces, so that a corrupt length never makes a node allocate
/// gigabytes or read past a payload. Writers enforce the same limits, so a node never sends what its peers refuse.
/// </summary>
public static class PeerLimits
{
    /// <summary>Cluster name, node id, datacenter, rack: short identifiers.</summary>
    public const int MaxNameBytes = 255;

    /// <summary>An advertised "host:port" (a DNS name is at most 253 bytes).</summary>
    public const int MaxAddressBytes = 300;

    /// <summary>Human-readable reasons and error messages.</summary>
    public const int MaxTextBytes = 4096;

    /// <summary>A key; Redis allows 512 MB, but a key beyond a few MiB is a mistake we refuse at the edge.</summary>
    public const int MaxKeyBytes = 16 * 1024 * 1024;

    /// <summary>An encoded object: values go up to 32 MiB (DESIGN.md), plus siblings and causal context.</summary>
    public const int MaxObjectBytes = 64 * 1024 * 1024;

    /// <summary>Hashes in one Merkle level reply: a whole leaf level of the largest tree (2^16 segments, 512 KiB).</summary>
    public const int MaxMerkleHashes = 1 << 16;

    /// <summary>
    /// Partitions in one Merkle roots request or reply: every partition of the largest ring (2^16; a reply of 512 KiB,
    /// far below the frame limit), so one request per peer always suffices, though a round may batch smaller.
    /// </summary>
    public const int MaxMerkleRoots = 1 << Partitioning.KeyPartitioner.MaxPartitionBits;
}
