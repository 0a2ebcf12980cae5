namespace Dynamite.Core.Peer;

/// <summary>The fixed part of a decoded frame (see <see cref="PeerFrameCodec"/> for the layout).</summary>
/// <param name="Version">The protocol version byte; always <see cref="PeerFrameCodec.ProtocolVersion"/> once decoded.</param>
/// <param name="Type">The message type. May be a value this node does not know (a newer peer's message).</param>
/// <param name="RequestId">Pairs a reply with its request; 0 during the handshake.</param>
/// <param name="PayloadLength">Bytes of payload after the header.</param>
public readonly record struct PeerFrameHeader(byte Version, PeerMessageType Type, ulong RequestId, int PayloadLength);
