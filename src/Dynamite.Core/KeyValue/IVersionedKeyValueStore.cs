using Dynamite.Core.Quorum;
using Dynamite.Core.Versioning;

namespace Dynamite.Core.KeyValue;

/// <summary>
/// Dynamo's own interface (§4.1: get(key) returns the context and every concurrent value, put(key, context,
/// value) supersedes exactly what that context saw), for applications that resolve conflicts themselves,
/// plus the node-local views operators use. Implemented by a cluster node's store.
/// </summary>
public interface IVersionedKeyValueStore
{
    /// <summary>N, the replication factor, so a per-connection R or W can be checked against it.</summary>
    int ReplicationFactor { get; }

    /// <summary>The merged object a quorum of replicas holds (siblings and context); empty when absent.</summary>
    ValueTask<VersionedObject> GetVersionedAsync(ReadOnlyMemory<byte> key, ConsistencyLevel? consistency, CancellationToken cancellationToken = default);

    /// <summary>Writes <paramref name="value"/> (null: delete) superseding what <paramref name="context"/> saw.</summary>
    ValueTask PutVersionedAsync(byte[] key, VersionVector context, byte[]? value, ConsistencyLevel? consistency, CancellationToken cancellationToken = default);

    /// <summary>This node's own copy, with no coordination; null when it holds none.</summary>
    VersionedObject? ReadLocal(ReadOnlySpan<byte> key);

    /// <summary>Keys this node stores (tombstones included until they are collected).</summary>
    long LocalKeyCount { get; }
}
