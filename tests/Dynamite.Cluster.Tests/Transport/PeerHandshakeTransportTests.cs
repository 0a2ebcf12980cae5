using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Dynamite.Cluster.Transport;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Xunit;

namespace Dynamite.Cluster.Tests.Transport;

public sealed class PeerHandshakeTransportTests
{
    private static readonly TimeSpan Patience = PeerTestCluster.Patience;

    [Fact]
    public async Task SendAsync_WrongSecret_IsRefusedWithAuthenticationFailed()
    {
        await using var cluster = new PeerTestCluster();
        PeerListener listener = cluster.StartListener(PeerTestCluster.EchoHandler);
        PeerClient client = cluster.Client(listener, PeerTestCluster.Options(PeerTestCluster.ClientIdentity, secret: "wrong"));

        var exception = await Assert.ThrowsAsync<PeerRefusedException>(() => client.SendAsync(ReplicaCount.Instance));

        Assert.Equal("authentication failed", exception.Message);
        Assert.False(client.IsConnected);
        Assert.Null(client.RemoteIdentity);
    }

    [Fact]
    public async Task SendAsync_OtherClusterName_IsRefusedNamingBothClusters()
    {
        await using var cluster = new PeerTestCluster();
        PeerListener listener = cluster.StartListener(PeerTestCluster.EchoHandler);
        PeerClient client = cluster.Client(listener, PeerTestCluster.Options(PeerTestCluster.ClientIdentity, cluster: "other-cluster"));

        var exception = await Assert.ThrowsAsync<PeerRefusedException>(() => client.SendAsync(ReplicaCount.Instance));

        Assert.Equal("cluster name mismatch: expected test-cluster, got other-cluster", exception.Message);
    }

    [Fact]
    public async Task Listener_RawSocketSendingGarbage_IsRefusedAndClosedWhileAProperClientIsServed()
    {
        await using var cluster = new PeerTestCluster();
        PeerListener listener = cluster.StartListener(PeerTestCluster.EchoHandler);
        PeerClient client = cluster.Client(listener);
        await client.ConnectAsync();

        using var raw = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await raw.ConnectAsync(listener.LocalEndPoint!);
        await raw.SendAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        byte[] received = await ReadToEndAsync(raw);

        Refused refused = DecodeSingleRefused(received);
        Assert.Contains("exceeds the limit", refused.Reason, StringComparison.Ordinal);
        Assert.Equal(42, (await client.SendAsync(ReplicaCount.Instance)).Read<ReplicaCountReply>().Count);
    }

    [Fact]
    public async Task Listener_ConnectionThatNeverSpeaks_IsClosedAfterTheHandshakeTimeout()
    {
        await using var cluster = new PeerTestCluster();
        PeerTransportOptions options = PeerTestCluster.Options(PeerTestCluster.ServerIdentity) with { HandshakeTimeout = TimeSpan.FromMilliseconds(200) };
        PeerListener listener = cluster.StartListener(PeerTestCluster.EchoHandler, options);

        using var raw = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await raw.ConnectAsync(listener.LocalEndPoint!);
        byte[] received = await ReadToEndAsync(raw);

        Assert.Contains("handshake not completed", DecodeSingleRefused(received).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Listener_RequestBeforeTheHandshake_IsRefused()
    {
        await using var cluster = new PeerTestCluster();
        PeerListener listener = cluster.StartListener(PeerTestCluster.EchoHandler);

        using var raw = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await raw.ConnectAsync(listener.LocalEndPoint!);
        var frame = new ArrayBufferWriter<byte>();
        PeerFrameCodec.WriteFrame(frame, 1, ReplicaCount.Instance);
        await raw.SendAsync(frame.WrittenMemory);

        Assert.Equal("expected Hello, got ReplicaCount", DecodeSingleRefused(await ReadToEndAsync(raw)).Reason);
    }

    [Fact]
    public async Task SendAsync_ServerThatCannotProveTheSecret_IsRejectedByTheClient()
    {
        // An impostor that accepts anyone: it answers the Hello and the proof, but cannot compute its own proof.
        using var impostor = new Socket(SocketType.Stream, ProtocolType.Tcp);
        impostor.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        impostor.Listen(1);
        Task serving = Task.Run(async () =>
        {
            using Socket accepted = await impostor.AcceptAsync();
            await ReadFrameAsync(accepted, PeerMessageType.Hello);
            await SendFrameAsync(accepted, new HelloChallenge(new byte[PeerHandshake.NonceBytes], PeerTestCluster.ServerIdentity));
            await ReadFrameAsync(accepted, PeerMessageType.HelloProof);
            await SendFrameAsync(accepted, new Welcome(new byte[PeerHandshake.ProofBytes]));
            await ReadToEndAsync(accepted);
        });
        await using var cluster = new PeerTestCluster();
        PeerClient client = cluster.Client(impostor.LocalEndPoint!);

        var exception = await Assert.ThrowsAsync<PeerRefusedException>(() => client.SendAsync(ReplicaCount.Instance));

        Assert.Contains("failed to prove the cluster secret", exception.Message, StringComparison.Ordinal);
        Assert.False(client.IsConnected);
        await serving.WaitAsync(Patience);
    }

    private static async Task ReadFrameAsync(Socket socket, PeerMessageType expected)
    {
        using var timeout = new CancellationTokenSource(Patience);
        var received = new List<byte>();
        byte[] chunk = new byte[4096];
        while (true)
        {
            var buffer = new ReadOnlySequence<byte>(received.ToArray());
            if (PeerFrameCodec.TryReadFrame(ref buffer, 64 * 1024, out PeerFrameHeader header, out _))
            {
                Assert.Equal(expected, header.Type);
                return;
            }

            int read = await socket.ReceiveAsync(chunk, SocketFlags.None, timeout.Token);
            Assert.NotEqual(0, read);
            received.AddRange(chunk.AsSpan(0, read));
        }
    }

    private static async Task SendFrameAsync(Socket socket, IPeerPayload payload)
    {
        var frame = new ArrayBufferWriter<byte>();
        PeerFrameCodec.WriteFrame(frame, 0, payload);
        await socket.SendAsync(frame.WrittenMemory);
    }

    private static async Task<byte[]> ReadToEndAsync(Socket socket)
    {
        using var timeout = new CancellationTokenSource(Patience);
        var received = new List<byte>();
        byte[] buffer = new byte[4096];
        while (true)
        {
            int read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            if (read == 0)
            {
                return [.. received];
            }

            received.AddRange(buffer.AsSpan(0, read));
        }
    }

    private static Refused DecodeSingleRefused(byte[] received)
    {
        var buffer = new ReadOnlySequence<byte>(received);
        Assert.True(PeerFrameCodec.TryReadFrame(ref buffer, 64 * 1024, out PeerFrameHeader header, out ReadOnlySequence<byte> payload));
        Assert.Equal(PeerMessageType.Refused, header.Type);
        Assert.True(buffer.IsEmpty);
        return Refused.Read(payload.ToArray());
    }
}
