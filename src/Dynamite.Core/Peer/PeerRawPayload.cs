using System.Buffers;

namespace Dynamite.Core.Peer;

/// <summary>
/// Already-encoded payload bytes under a given type: for forwarding a payload unchanged, for messages whose
/// codec lives in another module, and for tests that forge frames.
/// </summary>
public sealed record PeerRawPayload(PeerMessageType Type, ReadOnlyMemory<byte> Bytes) : IPeerPayload
{
    public int PayloadLength => Bytes.Length;

    public void Write(IBufferWriter<byte> writer) => PeerPayloadWriter.WriteFixed(writer, Bytes.Span);
}
