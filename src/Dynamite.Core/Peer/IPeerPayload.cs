using System.Buffers;

namespace Dynamite.Core.Peer;

/// <summary>
/// A message payload that knows its type and exact encoded size, so a frame's length prefix is written before
/// the payload and the payload goes straight into the output buffer (no intermediate copy).
/// </summary>
public interface IPeerPayload
{
    PeerMessageType Type { get; }

    /// <summary>Exactly the number of bytes <see cref="Write"/> produces.</summary>
    int PayloadLength { get; }

    void Write(IBufferWriter<byte> writer);
}
