namespace Dynamite.Core.Peer.Messages;

/// <summary>Why a request got an <see cref="ErrorMessage"/>. A wire enum: append-only, pinned by a test.</summary>
public enum PeerErrorCode : ushort
{
    /// <summary>The type is not one this node serves (for example a newer peer's message).</summary>
    UnknownMessageType = 1,

    /// <summary>The payload did not decode.</summary>
    MalformedPayload = 2,

    /// <summary>The handler failed; the message says how.</summary>
    Internal = 3,

    /// <summary>The node is shutting down or over a limit; try another replica.</summary>
    Unavailable = 4,
}
