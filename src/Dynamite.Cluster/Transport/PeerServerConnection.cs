using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Microsoft.Extensions.Logging;

namespace Dynamite.Cluster.Transport;

/// <summary>
/// The listener's side of one accepted connection: the server half of <see cref="PeerHandshake"/>, then a read
/// loop that dispatches each request to the handler without waiting for it, so many are in flight and replies
/// leave in whatever order handlers finish. At <see cref="PeerTransportOptions.MaxInFlightPerConnection"/>
/// unanswered requests the loop stops reading (TCP back-pressure on the sender); nothing is dropped.
/// </summary>
/// <remarks>
/// Its semaphore and token source are left to the garbage collector, not disposed: handlers may outlive the
/// connection and still return their slot or observe the token (neither allocates a wait handle or timer).
/// </remarks>
#pragma warning disable CA1001
internal sealed class PeerServerConnection : IPeerReplySink
#pragma warning restore CA1001
{
    /// <summary>Limit on a frame before authentication: a Hello is ~1.5 KiB; a stranger gets no large buffer from us.</summary>
    internal const int HandshakeMaxFrameBytes = 16 * 1024;

    /// <summary>
    /// How long a Refused frame may take to reach a peer before the socket closes anyway. Generous: on a loaded
    /// machine a second was not always enough, and the refused peer then saw the connection close without a reason.
    /// </summary>
    private static readonly TimeSpan RefusalDrainTimeout = TimeSpan.FromSeconds(5);

    private readonly PeerStream _stream;
    private readonly PeerTransportOptions _options;
    private readonly byte[] _secret;
    private readonly IPeerRequestHandler _handler;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <summary>Free in-flight slots: taken by the read loop before dispatch, returned when the handler's task ends.</summary>
    private readonly SemaphoreSlim _inFlight;

    /// <summary>Cancelled when the connection ends, for handlers still running (their replies have nowhere to go).</summary>
    private readonly CancellationTokenSource _closed = new();

    /// <summary>
    /// Replies given on the read loop's thread while it dispatches one read batch (handlers that complete at once):
    /// queued together when the batch ends, so the writer loop wakes once for them and sends them in one system call.
    /// Touched by the read loop's thread only.
    /// </summary>
    private readonly List<(ulong RequestId, IPeerPayload Payload)> _batchReplies = [];

    /// <summary>The managed thread id of the read loop while it dispatches a batch; 0 otherwise.</summary>
    private volatile int _dispatchingThread;

    public PeerServerConnection(
        PeerStream stream,
        PeerTransportOptions options,
        byte[] secret,
        IPeerRequestHandler handler,
        TimeProvider time,
        ILogger logger)
    {
        _stream = stream;
        _options = options;
        _secret = secret;
        _handler = handler;
        _time = time;
        _logger = logger;
        _inFlight = new SemaphoreSlim(options.MaxInFlightPerConnection, options.MaxInFlightPerConnection);
    }

    /// <summary>The authenticated peer; null until the handshake succeeds.</summary>
    public PeerIdentity? Remote { get; private set; }

    public bool Reply<TPayload>(ulong requestId, TPayload payload)
        where TPayload : IPeerPayload
    {
        if (_dispatchingThread != Environment.CurrentManagedThreadId)
        {
            return _stream.TrySend(requestId, payload);
        }

        _ = payload.PayloadLength; // Over-limit payloads throw here, in the handler, as TrySend would.
        _batchReplies.Add((requestId, payload));
        return !_stream.IsAborted;
    }

    /// <summary>Closes the connection from outside (the listener stopping).</summary>
    public void Abort() => _stream.Abort();

    public async Task RunAsync(CancellationToken stopping)
    {
        try
        {
            PeerIdentity? remote = await HandshakeAsync(stopping);
            if (remote is not null)
            {
                Remote = remote;
                await ServeAsync(remote, stopping);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (PeerProtocolException exception)
        {
            _logger.LogWarning("Closing peer connection from {Address} ({Peer}): {Reason}", _stream.RemoteEndPoint, Remote, exception.Message);
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException || _stream.IsAborted)
        {
            // The peer went away or the connection was closed under the loop.
        }
        catch (Exception exception)
        {
            _logger.LogError(exception, "Peer connection from {Address} ({Peer}) failed", _stream.RemoteEndPoint, Remote);
        }
        finally
        {
            _stream.Abort();
            await _closed.CancelAsync();
            await _stream.Input.CompleteAsync();
        }
    }

    /// <summary>Returns the authenticated peer, or null after refusing it (the Refused frame is sent and the stream closed).</summary>
    private async Task<PeerIdentity?> HandshakeAsync(CancellationToken stopping)
    {
        using var timeout = new CancellationTokenSource(_options.HandshakeTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, stopping);
        try
        {
            (PeerFrameHeader Header, byte[] Payload)? frame = await _stream.ReadFrameAsync(HandshakeMaxFrameBytes, linked.Token);
            if (frame is null)
            {
                return null;
            }

            if (frame.Value.Header.Type != PeerMessageType.Hello)
            {
                return await RefuseAsync($"expected {PeerMessageType.Hello}, got {frame.Value.Header.Type}");
            }

            Hello hello = Hello.Read(frame.Value.Payload);
            string? refusal = PeerHandshake.CheckHello(hello, _options.ClusterName);
            if (refusal is not null)
            {
                return await RefuseAsync(refusal, hello.Node);
            }

            PeerIdentity local = _options.LocalIdentity;
            byte[] serverNonce = RandomNumberGenerator.GetBytes(PeerHandshake.NonceBytes);
            _stream.TrySend(0, new HelloChallenge(serverNonce, local));

            frame = await _stream.ReadFrameAsync(HandshakeMaxFrameBytes, linked.Token);
            if (frame is null)
            {
                return null;
            }

            if (frame.Value.Header.Type != PeerMessageType.HelloProof)
            {
                return await RefuseAsync($"expected {PeerMessageType.HelloProof}, got {frame.Value.Header.Type}", hello.Node);
            }

            HelloProof proof = HelloProof.Read(frame.Value.Payload);
            bool valid = PeerHandshake.VerifyProof(
                PeerHandshakeRole.Client, _secret, _options.ClusterName, hello.Node.NodeId, local.NodeId,
                hello.ClientNonce.Span, serverNonce, proof.Proof.Span);
            if (!valid)
            {
                return await RefuseAsync(PeerHandshake.AuthenticationFailed, hello.Node);
            }

            byte[] serverProof = PeerHandshake.ComputeProof(
                PeerHandshakeRole.Server, _secret, _options.ClusterName, hello.Node.NodeId, local.NodeId,
                hello.ClientNonce.Span, serverNonce);
            _stream.TrySend(0, new Welcome(serverProof));
            _logger.LogInformation("Peer {Peer} connected from {Address}", hello.Node, _stream.RemoteEndPoint);
            return hello.Node;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !stopping.IsCancellationRequested)
        {
            return await RefuseAsync($"handshake not completed within {_options.HandshakeTimeout.TotalMilliseconds} ms");
        }
        catch (PeerProtocolException exception)
        {
            return await RefuseAsync(exception.Message);
        }
    }

    private async Task<PeerIdentity?> RefuseAsync(string reason, PeerIdentity? claimed = null)
    {
        _logger.LogWarning("Refused peer connection from {Address} ({Claimed}): {Reason}", _stream.RemoteEndPoint, claimed, reason);
        _stream.TrySend(0, Refusal(reason));
        await _stream.CloseAfterDrainAsync(RefusalDrainTimeout);
        return null;
    }

    private static Refused Refusal(string reason) =>
        new(reason.Length > PeerLimits.MaxTextBytes / 4 ? reason[..(PeerLimits.MaxTextBytes / 4)] : reason);

    private async Task ServeAsync(PeerIdentity remote, CancellationToken stopping)
    {
        PipeReader input = _stream.Input;
        int maxFrameBytes = _options.MaxFrameBytes;
        while (true)
        {
            ReadResult result = await input.ReadAsync(stopping);
            ReadOnlySequence<byte> buffer = result.Buffer;
            try
            {
                _dispatchingThread = Environment.CurrentManagedThreadId;
                while (PeerFrameCodec.TryReadFrame(ref buffer, maxFrameBytes, out PeerFrameHeader header, out ReadOnlySequence<byte> payload))
                {
                    if (!_inFlight.Wait(0, stopping))
                    {
                        // Back-pressure: stop reading until a handler finishes. The unread frames stay in the pipe and,
                        // once it is full, in the socket buffers, which throttles the sender. The wait may resume on
                        // another thread, so the replies so far go now.
                        SendBatchReplies();
                        await _inFlight.WaitAsync(stopping);
                        _dispatchingThread = Environment.CurrentManagedThreadId;
                    }

                    Dispatch(header, payload, remote);
                }
            }
            finally
            {
                SendBatchReplies();
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted || result.IsCanceled)
            {
                return;
            }
        }
    }

    /// <summary>Queues the replies collected during a dispatch and ends the batch.</summary>
    private void SendBatchReplies()
    {
        _dispatchingThread = 0;
        foreach ((ulong requestId, IPeerPayload payload) in _batchReplies)
        {
            _stream.TrySend(requestId, payload);
        }

        _batchReplies.Clear();
    }

    /// <summary>Called holding one in-flight slot, which this method or the handler's continuation returns.</summary>
    private void Dispatch(PeerFrameHeader header, ReadOnlySequence<byte> payload, PeerIdentity remote)
    {
        switch (header.Type)
        {
            case PeerMessageType.Ping:
                // Liveness is the transport's own business: answered here, never queued behind the handler.
                _stream.TrySend(header.RequestId, new Pong(Ping.Read(payload.ToArray()).Sequence));
                _inFlight.Release();
                return;
            case PeerMessageType.Hello or PeerMessageType.HelloChallenge or PeerMessageType.HelloProof
                or PeerMessageType.Welcome or PeerMessageType.Refused:
                throw new PeerProtocolException($"{header.Type} after the handshake");
        }

        if (!Enum.IsDefined(header.Type))
        {
            // A newer peer's message: answer, so its request fails fast instead of timing out; stay connected.
            _stream.TrySend(header.RequestId, new ErrorMessage(PeerErrorCode.UnknownMessageType, $"unknown message type {(byte)header.Type}"));
            _inFlight.Release();
            return;
        }

        int length = header.PayloadLength;
        byte[] rented = ArrayPool<byte>.Shared.Rent(length);
        payload.CopyTo(rented);
        var request = new PeerIncomingRequest(header.Type, header.RequestId, rented.AsMemory(0, length), remote);
        ValueTask handling;
        try
        {
            handling = _handler.HandleAsync(request, this, _closed.Token);
        }
        catch (Exception exception)
        {
            handling = ValueTask.FromException(exception);
        }

        if (handling.IsCompletedSuccessfully)
        {
            handling.GetAwaiter().GetResult();
            Finish(rented);
        }
        else
        {
            _ = AwaitHandlerAsync(handling, request, rented);
        }
    }

    private async Task AwaitHandlerAsync(ValueTask handling, PeerIncomingRequest request, byte[] rented)
    {
        try
        {
            await handling;
        }
        catch (PeerProtocolException exception)
        {
            _stream.TrySend(request.RequestId, ErrorMessage.Create(PeerErrorCode.MalformedPayload, exception.Message));
        }
        catch (OperationCanceledException) when (_closed.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            _logger.LogError(exception, "Handling {Type} from {Peer} failed", request.Type, request.Remote);
            _stream.TrySend(request.RequestId, ErrorMessage.Create(PeerErrorCode.Internal, exception.Message));
        }
        finally
        {
            Finish(rented);
        }
    }

    private void Finish(byte[] rented)
    {
        ArrayPool<byte>.Shared.Return(rented);
        _inFlight.Release();
    }
}
