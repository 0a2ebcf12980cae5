namespace Dynamite.Core.Membership;

/// <summary>
/// What this node believes about a peer's reachability. Shown by INFO and the admin API and carried in
/// gossip later, so the values are explicit and append-only (pinned by a test).
/// </summary>
public enum PeerHealth : byte
{
    /// <summary>Answering: the only state in which requests are sent to the peer as a primary.</summary>
    Up = 1,

    /// <summary>Silent for longer than its history makes likely (phi over the suspect threshold).</summary>
    Suspect = 2,

    /// <summary>Refusing connections, failing pings, or silent far beyond its history.</summary>
    Down = 3,
}
