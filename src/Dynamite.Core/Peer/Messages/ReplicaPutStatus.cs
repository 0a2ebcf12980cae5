namespace Dynamite.Core.Peer.Messages;

/// <summary>Outcome of a <see cref="ReplicaPut"/> or <see cref="HintedPut"/>. A wire enum: append-only, pinned by a test.</summary>
public enum ReplicaPutStatus : byte
{
    /// <summary>Durable on the replica as its storage engine's durability setting defines.</summary>
    Stored = 1,
    Error = 2,
}
