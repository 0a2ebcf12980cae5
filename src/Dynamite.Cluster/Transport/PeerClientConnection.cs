using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;

namespace Dynamite.Cluster.Transport;

/// <summary>
/// One established, authenticated connection of a <see cref="PeerClient"/>: requests are registered by id, a read
/// loop completes them as replies arrive (in any order). When the connection ends, every pending request fails
/// with the same <see cref="PeerUnavailableException"/> and the connection is never used again.
/// </summary>
internal sealed class PeerClientConnection
{
    private readonly PeerStream _stream;
    private readonly int _maxFrameBytes;

    /// <summary>Requests awaiting a reply, by request id. Written by senders, drained by the read loop and by <see cref="Fail"/>.</summary>
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource<PeerResponse>> _pending = new();

    /// <summary>
    /// Null while usable; set once, to the error every pending and later request fails with. A sender registers
    /// first and checks this after, <see cref="Fail"/> sets this first and drains after, so no request is missed.
    /// </summary>
    private volatile PeerUnavailableException? _failure;

    private PeerClientConnection(PeerStream stream, PeerIdentity remote, EndPoint endpoint, int maxFrameBytes)
    {
        _stream = stream;
        Remote = remote;
        EndPoint = endpoint;
        _maxFrameBytes = maxFrameBytes;
    }

    public PeerIdentity Remote { get; }

    public EndPoint EndPoint { get; }

    public bool IsAlive => _failure is null;

    /// <summary>Connects and runs the client half of <see cref="PeerHandshake"/>; the result is reading replies.</summary>
    public static async Task<PeerClientConnection> ConnectAsync(
        EndPoint endpoint,
        PeerTransportOptions options,
        byte[] secret,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (endpoint is IPEndPoint { Address.IsIPv4MappedToIPv6: true } mapped)
        {
            // An IPv6 socket is not dual-mode by default and cannot reach ::ffff:a.b.c.d; use plain IPv4.
            endpoint = new IPEndPoint(mapped.Address.MapToIPv4(), mapped.Port);
        }

        Socket socket = endpoint is IPEndPoint ip
            ? new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
            : new Socket(SocketType.Stream, ProtocolType.Tcp);
        PeerStream? stream = null;
        try
        {
            using (var connectTimeout = new CancellationTokenSource(options.ConnectTimeout, time))
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(connectTimeout.Token, cancellationToken))
            {
                try
                {
                    await socket.ConnectAsync(endpoint, linked.Token);
                }
                catch (OperationCanceledException) when (connectTimeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    throw new PeerUnavailableException($"connecting to peer {endpoint} timed out after {options.ConnectTimeout.TotalMilliseconds} ms");
                }
                catch (SocketException exception)
                {
                    throw new PeerUnavailableException($"connecting to peer {endpoint} failed: {exception.SocketErrorCode}", exception);
                }
            }

            stream = new PeerStream(socket);
            PeerIdentity remote;
            using (var handshakeTimeout = new CancellationTokenSource(options.HandshakeTimeout, time))
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(handshakeTimeout.Token, cancellationToken))
            {
                try
                {
                    remote = await HandshakeAsync(stream, endpoint, options, secret, linked.Token);
                }
                catch (OperationCanceledException) when (handshakeTimeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    throw new PeerUnavailableException($"handshake with peer {endpoint} timed out after {options.HandshakeTimeout.TotalMilliseconds} ms");
                }
                catch (Exception exception) when (exception is IOException or SocketException)
                {
                    throw new PeerUnavailableException($"connection to peer {endpoint} lost during the handshake: {exception.Message}", exception);
                }
            }

            var connection = new PeerClientConnection(stream, remote, endpoint, options.MaxFrameBytes);
            _ = connection.ReadLoopAsync();
            return connection;
        }
        catch
        {
            if (stream is null)
            {
                socket.Dispose();
            }
            else
            {
                stream.Abort();
                await stream.Input.CompleteAsync();
            }

            throw;
        }
    }

    /// <summary>Registers a request, then queues it; a connection that already failed fails <paramref name="pending"/> instead.</summary>
    public void Send(ulong requestId, IPeerPayload request, TaskCompletionSource<PeerResponse> pending)
    {
        _pending[requestId] = pending;
        PeerUnavailableException? failure = _failure;
        if (failure is null && _stream.TrySend(requestId, request))
        {
            return;
        }

        if (_pending.TryRemove(requestId, out _))
        {
            pending.TrySetException(failure ?? new PeerUnavailableException($"connection to peer {Remote} at {EndPoint} is closed"));
        }
    }

    /// <summary>Drops a request that timed out or was cancelled: its late reply, if any, is ignored.</summary>
    public void Forget(ulong requestId) => _pending.TryRemove(requestId, out _);

    /// <summary>Closes the connection (client disposal); pending requests fail.</summary>
    public void Close() => Fail(new PeerUnavailableException($"connection to peer {Remote} at {EndPoint} was closed locally"));

    private static async Task<PeerIdentity> HandshakeAsync(
        PeerStream stream,
        EndPoint endpoint,
        PeerTransportOptions options,
        byte[] secret,
        CancellationToken cancellationToken)
    {
        PeerIdentity local = options.LocalIdentity;
        byte[] clientNonce = RandomNumberGenerator.GetBytes(PeerHandshake.NonceBytes);
        stream.TrySend(0, new Hello(PeerFrameCodec.ProtocolVersion, options.ClusterName, local, options.AdvertisedAddress, clientNonce));

        byte[] payload = await ExpectAsync(stream, endpoint, PeerMessageType.HelloChallenge, cancellationToken);
        HelloChallenge challenge = HelloChallenge.Read(payload);
        byte[] proof = PeerHandshake.ComputeProof(
            PeerHandshakeRole.Client, secret, options.ClusterName, local.NodeId, challenge.Server.NodeId,
            clientNonce, challenge.ServerNonce.Span);
        stream.TrySend(0, new HelloProof(proof));

        payload = await ExpectAsync(stream, endpoint, PeerMessageType.Welcome, cancellationToken);
        Welcome welcome = Welcome.Read(payload);
        bool valid = PeerHandshake.VerifyProof(
            PeerHandshakeRole.Server, secret, options.ClusterName, local.NodeId, challenge.Server.NodeId,
            clientNonce, challenge.ServerNonce.Span, welcome.ServerProof.Span);
        if (!valid)
        {
            throw new PeerRefusedException($"peer {challenge.Server} at {endpoint} failed to prove the cluster secret ({PeerHandshake.AuthenticationFailed})");
        }

        return challenge.Server;
    }

    private static async Task<byte[]> ExpectAsync(PeerStream stream, EndPoint endpoint, PeerMessageType expected, CancellationToken cancellationToken)
    {
        (PeerFrameHeader Header, byte[] Payload)? frame = await stream.ReadFrameAsync(PeerServerConnection.HandshakeMaxFrameBytes, cancellationToken);
        if (frame is null)
        {
            throw new PeerUnavailableException($"peer {endpoint} closed the connection during the handshake");
        }

        if (frame.Value.Header.Type == PeerMessageType.Refused)
        {
            throw new PeerRefusedException(Refused.Read(frame.Value.Payload).Reason);
        }

        if (frame.Value.Header.Type != expected)
        {
            throw new PeerProtocolException($"peer {endpoint} sent {frame.Value.Header.Type} during the handshake, expected {expected}");
        }

        return frame.Value.Payload;
    }

    private async Task ReadLoopAsync()
    {
        // Leave the connect path before reading: the first read must not run on the caller's stack.
        await Task.Yield();
        PipeReader input = _stream.Input;
        PeerUnavailableException failure;
        try
        {
            while (true)
            {
                ReadResult result = await input.ReadAsync();
                ReadOnlySequence<byte> buffer = result.Buffer;
                while (PeerFrameCodec.TryReadFrame(ref buffer, _maxFrameBytes, out PeerFrameHeader header, out ReadOnlySequence<byte> payload))
                {
                    // No entry: a late reply to a request that timed out. Ignored.
                    if (_pending.TryRemove(header.RequestId, out TaskCompletionSource<PeerResponse>? pending))
                    {
                        pending.TrySetResult(new PeerResponse(header.Type, header.RequestId, payload.ToArray(), Remote));
                    }
                }

                input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }

            failure = new PeerUnavailableException($"peer {Remote} at {EndPoint} closed the connection");
        }
        catch (Exception exception)
        {
            failure = _failure ?? new PeerUnavailableException($"connection to peer {Remote} at {EndPoint} failed: {exception.Message}", exception);
        }

        Fail(failure);
        await input.CompleteAsync();
    }

    private void Fail(PeerUnavailableException failure)
    {
#pragma warning disable CS0420 // A volatile field passed by reference: Interlocked supplies the barrier.
        if (Interlocked.CompareExchange(ref _failure, failure, null) is null)
#pragma warning restore CS0420
        {
            _stream.Abort();
        }

        PeerUnavailableException reason = _failure!;
        foreach (ulong requestId in _pending.Keys)
        {
            if (_pending.TryRemove(requestId, out TaskCompletionSource<PeerResponse>? pending))
            {
                pending.TrySetException(reason);
            }
        }
    }
}
