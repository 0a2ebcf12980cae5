using System.Diagnostics.CodeAnalysis;
using Dynamite.Core.DataTypes;
using Dynamite.Core.Membership;
using Dynamite.Core.Versioning;

namespace Dynamite.Cluster.Replication;

/// <summary>
/// A write this node accepted on behalf of <paramref name="IntendedFor"/> while that node was unreachable
/// (Dynamo §4.6, hinted handoff); replayed to it as a merge once it is back.
/// </summary>
/// <param name="IntendedFor">The primary replica the write was meant for.</param>
/// <param name="Key">The user key (not the hint store's internal key). Never mutated.</param>
/// <param name="Object">The object to merge into the intended node's copy.</param>
[SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "'Object' is the versioned object, the name the replication code uses throughout.")]
public sealed record Hint(NodeId IntendedFor, byte[] Key, VersionedObject Object)
{
    /// <summary>A typed key's change, replayed as a <see cref="Core.Peer.Messages.ReplicaDelta"/> (<see cref="Object"/> is then empty); null for a string's hint.</summary>
    public KeyDelta? Delta { get; init; }

    /// <summary>The stored bytes of <see cref="Delta"/>: the hint is removed after its replay only while they are unchanged.</summary>
    internal byte[]? EncodedDelta { get; init; }
}
