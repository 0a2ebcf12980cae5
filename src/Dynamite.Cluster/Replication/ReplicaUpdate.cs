using Dynamite.Core.Versioning;

namespace Dynamite.Cluster.Replication;

/// <summary>
/// One key's write as its coordinating replica makes it (<see cref="ReplicaStore.UpdateBatchEncodedAsync"/>): the new
/// value (null: a delete), the context the client read (null: supersede whatever this replica holds), the fields a bit
/// command wrote (null: a whole value) and the expiry (0: none).
/// </summary>
public readonly record struct ReplicaUpdate(byte[] Key, VersionVector? Context, byte[]? Value, byte[]? BitPatches, long ExpiresAtUnixMs);
