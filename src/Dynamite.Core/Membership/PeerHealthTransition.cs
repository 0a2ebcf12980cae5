namespace Dynamite.Core.Membership;

/// <summary>A peer's health changed from <paramref name="Old"/> to <paramref name="New"/>.</summary>
public readonly record struct PeerHealthTransition(NodeId Peer, PeerHealth Old, PeerHealth New);
