using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Xunit;

namespace Dynamite.Core.Tests.Peer;

public sealed class PeerHandshakeTests
{
    private static readonly byte[] Secret = "s3cret"u8.ToArray();
    private static readonly byte[] ClientNonce = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
    private static readonly byte[] ServerNonce = Enumerable.Range(100, 32).Select(i => (byte)i).ToArray();

    [Fact]
    public void Proofs_SameSecret_AreAcceptedInBothDirections()
    {
        byte[] clientProof = Proof(PeerHandshakeRole.Client, Secret);
        byte[] serverProof = Proof(PeerHandshakeRole.Server, Secret);

        Assert.Equal(PeerHandshake.ProofBytes, clientProof.Length);
        Assert.True(Verify(PeerHandshakeRole.Client, Secret, clientProof));
        Assert.True(Verify(PeerHandshakeRole.Server, Secret, serverProof));
    }

    [Fact]
    public void Proofs_WrongSecret_AreRejectedInBothDirections()
    {
        byte[] wrong = "guess"u8.ToArray();
        Assert.False(Verify(PeerHandshakeRole.Client, Secret, Proof(PeerHandshakeRole.Client, wrong)));
        Assert.False(Verify(PeerHandshakeRole.Server, Secret, Proof(PeerHandshakeRole.Server, wrong)));
    }

    [Fact]
    public void ClientProof_EchoedBackAsTheServerProof_IsRejected()
    {
        Assert.False(Verify(PeerHandshakeRole.Server, Secret, Proof(PeerHandshakeRole.Client, Secret)));
    }

    [Fact]
    public void Proof_FromAnotherConnectionsNonce_IsRejected()
    {
        byte[] otherNonce = (byte[])ServerNonce.Clone();
        otherNonce[0] ^= 1;
        byte[] replayed = PeerHandshake.ComputeProof(PeerHandshakeRole.Client, Secret, "c", "a", "b", ClientNonce, otherNonce);
        Assert.False(Verify(PeerHandshakeRole.Client, Secret, replayed));
    }

    [Fact]
    public void Proof_TruncatedOrEmpty_IsRejected()
    {
        Assert.False(Verify(PeerHandshakeRole.Client, Secret, Proof(PeerHandshakeRole.Client, Secret).AsSpan(0, 31).ToArray()));
        Assert.False(Verify(PeerHandshakeRole.Client, Secret, []));
    }

    [Fact]
    public void CheckHello_OtherClusterName_IsRefusedWithBothNames()
    {
        var hello = new Hello(1, "staging", new PeerIdentity("a", "dc", "r"), "a:1", ClientNonce);
        Assert.Equal("cluster name mismatch: expected c, got staging", PeerHandshake.CheckHello(hello, "c"));
    }

    [Fact]
    public void CheckHello_SameClusterName_Proceeds()
    {
        var hello = new Hello(1, "c", new PeerIdentity("a", "dc", "r"), "a:1", ClientNonce);
        Assert.Null(PeerHandshake.CheckHello(hello, "c"));
    }

    [Fact]
    public void CheckHello_OtherProtocolVersion_IsRefused()
    {
        var hello = new Hello(2, "c", new PeerIdentity("a", "dc", "r"), "a:1", ClientNonce);
        Assert.Contains("version 2", PeerHandshake.CheckHello(hello, "c"), StringComparison.Ordinal);
    }

    private static byte[] Proof(PeerHandshakeRole role, byte[] secret) =>
        PeerHandshake.ComputeProof(role, secret, "c", "a", "b", ClientNonce, ServerNonce);

    private static bool Verify(PeerHandshakeRole role, byte[] secret, byte[] proof) =>
        PeerHandshake.VerifyProof(role, secret, "c", "a", "b", ClientNonce, ServerNonce, proof);
}
