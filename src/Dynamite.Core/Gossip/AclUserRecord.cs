namespace Dynamite.Core.Gossip;

/// <summary>
/// One ACL user as cluster state: its rules as <c>ACL LIST</c> writes them (after "user NAME"), or a tombstone once
/// deleted, versioned so that gossip keeps the latest change of each user (a last-writer-wins register per user name).
/// The version is a Lamport counter (one more than the version the changing node knew); concurrent changes of one user
/// through two nodes tie-break by the node that made them, so every node keeps the same one. The core never reads the
/// rules: what they mean is the front end's (Dynamite.Protocols).
/// </summary>
public sealed record AclUserRecord(string Name, long Version, string Actor, bool Deleted, string Rules)
{
    /// <summary>Upper bound on a user's rules a decoder accepts (many key patterns fit; a corrupt length cannot allocate much).</summary>
    public const int MaxRulesBytes = 64 * 1024;

    /// <summary>Positive when this record supersedes <paramref name="other"/> (a later change of the same user).</summary>
    public int Precedes(AclUserRecord other)
    {
        ArgumentNullException.ThrowIfNull(other);
        int byVersion = Version.CompareTo(other.Version);
        if (byVersion != 0)
        {
            return byVersion;
        }

        int byActor = string.CompareOrdinal(Actor, other.Actor);
        if (byActor != 0)
        {
            return byActor;
        }

        // The same node cannot make two changes at one version; compare the rest only to stay a total order.
        int byDeletion = Deleted.CompareTo(other.Deleted);
        return byDeletion != 0 ? byDeletion : string.CompareOrdinal(Rules, other.Rules);
    }
}
