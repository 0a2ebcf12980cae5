namespace Dynamite.Core.Peer.Messages;

/// <summary>Outcome of a <see cref="ReplicaGet"/>. A wire enum: append-only, explicit values, pinned by a test.</summary>
public enum ReplicaGetStatus : byte
{
    Found = 1,
    NotFound = 2,
    Error = 3,
}
