using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>Client → server: HMAC proof that the client holds the cluster secret (see <see cref="PeerHandshake"/>).</summary>
public sealed record HelloProof(ReadOnlyMemory<byte> Proof) : IPeerMessage<HelloProof>
{
    public static PeerMessageType MessageType => PeerMessageType.HelloProof;

    public PeerMessageType Type => MessageType;

    public int PayloadLength => PeerHandshake.ProofBytes;

    public void Write(IBufferWriter<byte> writer)
    {
        if (Proof.Length != PeerHandshake.ProofBytes)
        {
            throw new InvalidOperationException($"Proof must be {PeerHandshake.ProofBytes} bytes");
        }

        PeerPayloadWriter.WriteFixed(writer, Proof.Span);
    }

    public static HelloProof Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        byte[] proof = reader.ReadFixed("proof", PeerHandshake.ProofBytes);
        reader.EnsureEnd();
        return new HelloProof(proof);
    }
}
