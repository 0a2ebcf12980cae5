namespace Dynamite.Core.Membership;

/// <summary>What <see cref="PeerHealthTracker"/> keeps per peer.</summary>
internal sealed class PeerHealthState(PhiAccrualFailureDetector detector)
{
    public PhiAccrualFailureDetector Detector { get; } = detector;

    /// <summary>Peers start Up: a node that just started must not treat every peer as dead until proven
    /// alive (every write would go to fallbacks); a dead peer is found within a couple of pings.</summary>
    public PeerHealth Health { get; set; } = PeerHealth.Up;

    /// <summary>Reset by every success.</summary>
    public int ConsecutiveFailures { get; set; }
}
