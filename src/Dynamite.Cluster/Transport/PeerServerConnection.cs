using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Microsoft.Extensions.Logging;

namespace Dynamite.Cluster.Transport;

/// <summary>
/// The listener's side of one accepted connection: TLS when peers use certificates (<see cref="PeerTls"/>; a
/// peer whose certificate another CA signed, or that names another cluster or node, is refused there), the
/// server half of <see cref="PeerHandshake"/>, then a read
/// loop that dispatches each request to the handler without waiting for it, so many are in flight and replies
/// leave in whatever order handlers finish. At <see cref="PeerTransportOptions.MaxInFlightPerConnection"/>
/// unanswered requests the loop stops reading (TCP back-pressure on the sender); nothing is dropped. Consecutive
/// requests of a type the handler serves in runs (a replica's puts) are handed over together, one run per read at
/// most <see cref="PeerTransportOptions.MaxRequestRunLength"/> long: on 3 nodes at 50 SET connections a replica read
/// about 27 puts per read.
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

    private readonly Socket _socket;
    private readonly EndPoint? _remoteEndPoint;

    /// <summary>Set once the connection's bytes flow (after TLS, when peers use it); null before.</summary>
    private PeerStream? _stream;

    /// <summary>The stream, in the handshake and after it (never before <see cref="OpenAsync"/> set it).</summary>
    private PeerStream Stream => _stream ?? throw new InvalidOperationException("the peer connection is not open yet");

    /// <summary>The node certificate it presented in TLS, and what it proved, when peers use certificates.</summary>
    private PresentedCertificates? _presented;
    private PeerCertificateCheck? _certified;

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

    /// <summary>Requests of a type the handler serves in runs, gathered from one read until another type or the read's
    /// end (<see cref="DispatchRun"/>); each holds an in-flight slot and its pooled payload. Null when none is gathered.</summary>
    private List<(PeerIncomingRequest Request, byte[] Rented)>? _run;

    public PeerServerConnection(
        Socket socket,
        PeerTransportOptions options,
        byte[] secret,
        IPeerRequestHandler handler,
        TimeProvider time,
        ILogger logger)
    {
        _socket = socket;
        _remoteEndPoint = socket.RemoteEndPoint;
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
        // Handlers run after the handshake only, when the stream is set.
        if (_dispatchingThread != Environment.CurrentManagedThreadId)
        {
            return Stream.TrySend(requestId, payload);
        }

        _ = payload.PayloadLength; // Over-limit payloads throw here, in the handler, as TrySend would.
        _batchReplies.Add((requestId, payload));
        return !Stream.IsAborted;
    }

    /// <summary>Closes the connection from outside (the listener stopping, the CAs no longer trusting the peer).</summary>
    public void Abort()
    {
        if (_stream is { } stream)
        {
            stream.Abort();
        }
        else
        {
            _socket.Dispose();
        }
    }

    public async Task RunAsync(CancellationToken stopping)
    {
        try
        {
            _stream = await OpenAsync(stopping);
            PeerIdentity? remote = _stream is null ? null : await HandshakeAsync(stopping);
            if (remote is not null)
            {
                Remote = remote;
                if (_options.Certificates is { } watched)
                {
                    watched.Changed += OnCertificatesChanged;
                    // The CAs may have changed since TLS checked the peer, before this subscription: check once more.
                    OnCertificatesChanged(null, new PeerCertificatesChangedEventArgs(localChanged: false, trustChanged: true));
                }

                await ServeAsync(remote, stopping);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (PeerProtocolException exception)
        {
            _logger.LogWarning("Closing peer connection from {Address} ({Peer}): {Reason}", _remoteEndPoint, Remote, exception.Message);
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException || _stream?.IsAborted == true)
        {
            // The peer went away or the connection was closed under the loop.
        }
        catch (Exception exception)
        {
            _logger.LogError(exception, "Peer connection from {Address} ({Peer}) failed", _remoteEndPoint, Remote);
        }
        finally
        {
            if (_options.Certificates is { } watched)
            {
                watched.Changed -= OnCertificatesChanged;
            }

            Abort();
            await _closed.CancelAsync();
            if (_stream is { } stream)
            {
                await stream.Input.CompleteAsync();
            }
        }
    }

    /// <summary>The connection's stream: the socket as it is, or TLS over it; null after refusing the peer's TLS (logged).</summary>
    private async Task<PeerStream?> OpenAsync(CancellationToken stopping)
    {
        if (_options.Certificates is not { } certificates)
        {
            return new PeerStream(_socket);
        }

        using var timeout = new CancellationTokenSource(_options.HandshakeTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, stopping);
        try
        {
            (SslStream tls, PresentedCertificates presented, PeerCertificateCheck check) = await PeerTls.AuthenticateAsServerAsync(_socket, _options, certificates, linked.Token);
            _presented = presented;
            _certified = check;
            try
            {
                return new PeerStream(_socket, tls);
            }
            catch
            {
                // Closed under it (the listener stopping): the TLS stream is this method's to dispose.
                await tls.DisposeAsync();
                throw;
            }
        }
        catch (PeerRefusedException exception)
        {
            _logger.LogWarning("Refused peer TLS connection from {Address}: {Reason}", _remoteEndPoint, exception.Message);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !stopping.IsCancellationRequested)
        {
            _logger.LogWarning("Refused peer TLS connection from {Address}: no TLS handshake within {Timeout} ms", _remoteEndPoint, _options.HandshakeTimeout.TotalMilliseconds);
        }

        return null;
    }

    /// <summary>CAs trusted from now on that no longer accept the peer's certificate close its connection.</summary>
    private void OnCertificatesChanged(object? sender, PeerCertificatesChangedEventArgs change)
    {
        if (!change.TrustChanged || _presented is null || _options.Certificates is not { } certificates || _stream?.IsAborted != false)
        {
            return;
        }

        if (PeerTls.Recheck(_presented, _options, certificates) is { } refusal)
        {
            _logger.LogWarning("Closing the connection from peer {Peer} at {Address}: its certificate is no longer trusted ({Reason})", Remote, _remoteEndPoint, refusal);
            Abort();
        }
    }

    /// <summary>Returns the authenticated peer, or null after refusing it (the Refused frame is sent and the stream closed).</summary>
    private async Task<PeerIdentity?> HandshakeAsync(CancellationToken stopping)
    {
        using var timeout = new CancellationTokenSource(_options.HandshakeTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, stopping);
        try
        {
            (PeerFrameHeader Header, byte[] Payload)? frame = await Stream.ReadFrameAsync(HandshakeMaxFrameBytes, linked.Token);
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
            if (refusal is null && _certified is { } certified && !string.Equals(certified.NodeId, hello.Node.NodeId, StringComparison.Ordinal))
            {
                refusal = $"it says it is node '{hello.Node.NodeId}', but its certificate is node '{certified.NodeId}''s";
            }

            if (refusal is not null)
            {
                return await RefuseAsync(refusal, hello.Node);
            }

            PeerIdentity local = _options.LocalIdentity;
            byte[] serverNonce = RandomNumberGenerator.GetBytes(PeerHandshake.NonceBytes);
            Stream.TrySend(0, new HelloChallenge(serverNonce, local));

            frame = await Stream.ReadFrameAsync(HandshakeMaxFrameBytes, linked.Token);
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
            Stream.TrySend(0, new Welcome(serverProof));
            _logger.LogInformation("Peer {Peer} connected from {Address}", hello.Node, _remoteEndPoint);
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
        _logger.LogWarning("Refused peer connection from {Address} ({Claimed}): {Reason}", _remoteEndPoint, claimed, reason);
        Stream.TrySend(0, Refusal(reason));
        await Stream.CloseAfterDrainAsync(RefusalDrainTimeout);
        return null;
    }

    private static Refused Refusal(string reason) =>
        new(reason.Length > PeerLimits.MaxTextBytes / 4 ? reason[..(PeerLimits.MaxTextBytes / 4)] : reason);

    private async Task ServeAsync(PeerIdentity remote, CancellationToken stopping)
    {
        PipeReader input = Stream.Input;
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
                        // another thread, so the run gathered so far and the replies so far go now.
                        DispatchRun();
                        SendBatchReplies();
                        await _inFlight.WaitAsync(stopping);
                        _dispatchingThread = Environment.CurrentManagedThreadId;
                    }

                    if (_run is { } run && (run[0].Request.Type != header.Type || run.Count == PeerTransportOptions.MaxRequestRunLength))
                    {
                        DispatchRun();
                    }

                    if (_handler.ServesRuns(header.Type))
                    {
                        (_run ??= new List<(PeerIncomingRequest, byte[])>(8)).Add(Received(header, payload, remote));
                    }
                    else
                    {
                        Dispatch(header, payload, remote);
                    }
                }
            }
            finally
            {
                DispatchRun();
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
            Stream.TrySend(requestId, payload);
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
                Stream.TrySend(header.RequestId, new Pong(Ping.Read(payload.ToArray()).Sequence));
                _inFlight.Release();
                return;
            case PeerMessageType.Hello or PeerMessageType.HelloChallenge or PeerMessageType.HelloProof
                or PeerMessageType.Welcome or PeerMessageType.Refused:
                throw new PeerProtocolException($"{header.Type} after the handshake");
        }

        if (!Enum.IsDefined(header.Type))
        {
            // A newer peer's message: answer, so its request fails fast instead of timing out; stay connected.
            Stream.TrySend(header.RequestId, new ErrorMessage(PeerErrorCode.UnknownMessageType, $"unknown message type {(byte)header.Type}"));
            _inFlight.Release();
            return;
        }

        (PeerIncomingRequest request, byte[] rented) = Received(header, payload, remote);
        DispatchOne(request, rented);
    }

    /// <summary>The request in a frame, its payload copied into a pooled buffer (the pipe's bytes are released after the read).</summary>
    private static (PeerIncomingRequest Request, byte[] Rented) Received(PeerFrameHeader header, ReadOnlySequence<byte> payload, PeerIdentity remote)
    {
        int length = header.PayloadLength;
        byte[] rented = ArrayPool<byte>.Shared.Rent(length);
        payload.CopyTo(rented);
        return (new PeerIncomingRequest(header.Type, header.RequestId, rented.AsMemory(0, length), remote), rented);
    }

    /// <summary>Hands one request to the handler; called holding its in-flight slot, which this method or the handler's
    /// continuation returns.</summary>
    private void DispatchOne(PeerIncomingRequest request, byte[] rented)
    {
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
            Stream.TrySend(request.RequestId, ErrorMessage.Create(PeerErrorCode.MalformedPayload, exception.Message));
        }
        catch (OperationCanceledException) when (_closed.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            _logger.LogError(exception, "Handling {Type} from {Peer} failed", request.Type, request.Remote);
            Stream.TrySend(request.RequestId, ErrorMessage.Create(PeerErrorCode.Internal, exception.Message));
        }
        finally
        {
            Finish(rented);
        }
    }

    /// <summary>Hands the gathered run to the handler (a single request as any other), or does nothing when none is gathered.</summary>
    private void DispatchRun()
    {
        if (_run is not { } run)
        {
            return;
        }

        _run = null;
        if (run.Count == 1)
        {
            DispatchOne(run[0].Request, run[0].Rented);
            return;
        }

        var requests = new PeerIncomingRequest[run.Count];
        for (int i = 0; i < requests.Length; i++)
        {
            requests[i] = run[i].Request;
        }

        ValueTask handling;
        try
        {
            handling = _handler.HandleRunAsync(requests, this, _closed.Token);
        }
        catch (Exception exception)
        {
            handling = ValueTask.FromException(exception);
        }

        if (handling.IsCompletedSuccessfully)
        {
            handling.GetAwaiter().GetResult();
            FinishRun(run);
        }
        else
        {
            _ = AwaitRunAsync(handling, requests, run);
        }
    }

    private async Task AwaitRunAsync(ValueTask handling, PeerIncomingRequest[] requests, List<(PeerIncomingRequest Request, byte[] Rented)> run)
    {
        try
        {
            await handling;
        }
        catch (OperationCanceledException) when (_closed.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            // The handler throws only before it replied to any of them.
            _logger.LogError(exception, "Handling {Count} {Type} requests from {Peer} failed", requests.Length, requests[0].Type, requests[0].Remote);
            foreach (PeerIncomingRequest request in requests)
            {
                Stream.TrySend(request.RequestId, ErrorMessage.Create(PeerErrorCode.Internal, exception.Message));
            }
        }
        finally
        {
            FinishRun(run);
        }
    }

    private void FinishRun(List<(PeerIncomingRequest Request, byte[] Rented)> run)
    {
        foreach ((_, byte[] rented) in run)
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
