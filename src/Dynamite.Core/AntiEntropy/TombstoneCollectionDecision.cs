namespace Dynamite.Core.AntiEntropy;

/// <summary>The verdict of <see cref="TombstoneCollection.Decide"/>; explicit values so logs and metrics stay stable.</summary>
public enum TombstoneCollectionDecision : byte
{
    /// <summary>Every replica holds this tombstone and it is older than the grace period: the replica may delete it.</summary>
    Collect = 1,

    /// <summary>Some sibling holds a value, or there is no sibling at all: nothing to collect.</summary>
    NotATombstone = 2,

    /// <summary>Some replica of the partition has not been seen holding this exact tombstone.</summary>
    NotConfirmedByEveryReplica = 3,

    /// <summary>Confirmed everywhere, but younger than the grace period.</summary>
    WithinGracePeriod = 4,
}
