namespace Dynamite.Core.AntiEntropy;

/// <summary>
/// One key of a Merkle segment and its key digest (<see cref="PartitionMerkleTree.KeyDigest(ReadOnlySpan{byte}, ulong)"/>):
/// equal digests mean equal objects, so a segment exchange lists only these, never values.
/// Invariant: <see cref="Key"/> is never mutated.
/// </summary>
public readonly record struct SegmentKey(byte[] Key, ulong Digest);
