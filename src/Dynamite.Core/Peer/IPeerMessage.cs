namespace Dynamite.Core.Peer;

/// <summary>A payload type with a fixed message type and a decoder, so generic code can decode a reply by type.</summary>
public interface IPeerMessage<TSelf> : IPeerPayload
    where TSelf : IPeerMessage<TSelf>
{
    static abstract PeerMessageType MessageType { get; }

    /// <summary>Decodes a payload; throws <see cref="PeerProtocolException"/> on anything malformed.</summary>
    static abstract TSelf Read(ReadOnlySpan<byte> payload);
}
