namespace Dynamite.Core.Peer.Messages;

/// <summary>Outcome of a <see cref="ReplicaGet"/>. A wire enum: append-only, explicit values, pinned by a test.</summary>
public enum ReplicaGetStatus : byte
{
    Found = 1,
    NotFound = 2,
    Error = 3,

    /// <summary>The replica's copy has the digest the request named: the coordinator's own copy is the reply.</summary>
    Unchanged = 4,

    /// <summary>The replica holds a typed key (a hash, a set) there: the coordinator reads it through the typed path.</summary>
    Typed = 5,
}
