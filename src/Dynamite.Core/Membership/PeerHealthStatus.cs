namespace Dynamite.Core.Membership;

/// <summary>One peer's row in <see cref="PeerHealthTracker.Snapshot"/>, for INFO and the admin API.</summary>
/// <param name="Peer">The peer.</param>
/// <param name="Health">Its health as of the last evaluation.</param>
/// <param name="Phi">The suspicion level when the snapshot was taken.</param>
/// <param name="LastHeartbeatUnixMs">When the peer last answered; null if it never has.</param>
/// <param name="ConsecutiveFailures">Failed pings or refused connections since its last answer.</param>
public readonly record struct PeerHealthStatus(NodeId Peer, PeerHealth Health, double Phi, long? LastHeartbeatUnixMs, int ConsecutiveFailures);
