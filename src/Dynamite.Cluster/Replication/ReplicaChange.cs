using Dynamite.Core.DataTypes;
using Dynamite.Core.Versioning;

namespace Dynamite.Cluster.Replication;

/// <summary>
/// One change of a replica batch (<see cref="ReplicaStore.ApplyBatchAsync"/>): an object to merge under
/// <see cref="Key"/> (with the bytes it was decoded from, stored as they are when it supersedes what is there), or a
/// typed key's delta to join.
/// </summary>
public readonly record struct ReplicaChange(byte[] Key, VersionedObject? Incoming, byte[]? EncodedObject, KeyDelta? Delta)
{
    public static ReplicaChange Merge(byte[] key, VersionedObject incoming, byte[]? encoded) => new(key, incoming, encoded, null);

    public static ReplicaChange Join(byte[] key, KeyDelta delta) => new(key, null, null, delta);
}
