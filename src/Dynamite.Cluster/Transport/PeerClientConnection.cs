using System.Buffers;
using System.Collections.Concurrent;
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
/// One established, authenticated connection of a <see cref="PeerClient"/>: requests are registered by id, a read
/// loop completes them as replies arrive (in any order). When the connection ends, every pending request fails
/// with the same <see cref="PeerUnavailableException"/> and the connection is never used again. Requests with a
/// deadline are failed with a <see cref="TimeoutException"/> by a sweep, so a request needs no timer of its own. The
/// sweep's one timer is armed for the earliest moment a pending request is due (its deadline, or its "slow" time),
/// never sooner than <see cref="SweepInterval"/> after the last sweep: a request answered in time (nearly all) costs
/// no timer firing, and an idle connection wakes nobody. Whoever removes a request from the pending table reports its outcome, so
/// each is reported once. Over TLS, a change of certificates retires the connection (<see cref="Retire"/>): the
/// client opens a new one for new requests and this one closes once its requests are answered, so a rotation fails none.
/// </summary>
internal sealed class PeerClientConnection
{
    /// <summary>The shortest time between two sweeps: under load, requests due within it are failed or reported together.</summary>
    public static readonly TimeSpan SweepInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>How long a retired connection may still wait for its replies before it closes anyway.</summary>
    private static readonly TimeSpan RetireGrace = TimeSpan.FromSeconds(30);

    private readonly PeerStream _stream;
    private readonly PeerTransportOptions _options;

    /// <summary>What the peer presented in TLS, when peers use certificates; null over plain TCP.</summary>
    private readonly PresentedCertificates? _presented;

    private readonly ILogger _logger;
    private readonly int _maxFrameBytes;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _inFlightSlots;
    private readonly ITimer _sweep;

    /// <summary>Taken only to arm the sweep's timer earlier than it is, never per request while a sweep is due before it.</summary>
    private readonly Lock _sweepSwitch = new();

    /// <summary>When the sweep's timer fires next (<see cref="_time"/>'s timestamp); <see cref="long.MaxValue"/>: not armed.
    /// Lowered only under <see cref="_sweepSwitch"/>; the sweep sets it back when it runs.</summary>
    private long _sweepDue = long.MaxValue;

    /// <summary>Set once the connection failed and the sweep's timer was disposed (under <see cref="_sweepSwitch"/>).</summary>
    private bool _sweepDisposed;

    /// <summary>Requests awaiting a reply, by request id. Written by senders, drained by the read loop, the sweep and <see cref="Fail"/>.</summary>
    private readonly ConcurrentDictionary<ulong, PendingRequest> _pending = new();

    /// <summary>
    /// Null while usable; set once, to the error every pending and later request fails with. A sender registers
    /// first and checks this after, <see cref="Fail"/> sets this first and drains after, so no request is missed.
    /// </summary>
    private volatile PeerUnavailableException? _failure;

    /// <summary>0 while new requests may use the connection; else the timestamp at which it was retired.</summary>
    private long _retiredAt;

    /// <summary>Senders inside <see cref="Send"/>: a retired connection closes only while there are none.</summary>
    private int _senders;

    /// <summary>1 while the sweep closes a retired connection: a sender that sees it sends on another connection.</summary>
    private int _closing;

    private PeerClientConnection(PeerStream stream, PresentedCertificates? presented, PeerIdentity remote, EndPoint endpoint, PeerTransportOptions options, TimeProvider time,
        SemaphoreSlim inFlightSlots, ILogger logger)
    {
        _stream = stream;
        _presented = presented;
        _options = options;
        _logger = logger;
        Remote = remote;
        EndPoint = endpoint;
        _maxFrameBytes = options.MaxFrameBytes;
        _time = time;
        _inFlightSlots = inFlightSlots;
        _sweep = time.CreateTimer(static state => ((PeerClientConnection)state!).FailExpired(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public PeerIdentity Remote { get; }

    public EndPoint EndPoint { get; }

    public bool IsAlive => _failure is null;

    /// <summary>Alive and not retired: new requests may use it.</summary>
    public bool IsUsable => _failure is null && Volatile.Read(ref _retiredAt) == 0;

    /// <summary>
    /// Connects and runs the client half of <see cref="PeerHandshake"/>; the result is reading replies.
    /// <paramref name="inFlightSlots"/> are the client's in-flight slots: a request sent with <c>holdsSlot</c> gives
    /// its slot back there when it ends.
    /// </summary>
    public static async Task<PeerClientConnection> ConnectAsync(
        EndPoint endpoint,
        PeerTransportOptions options,
        byte[] secret,
        TimeProvider time,
        SemaphoreSlim inFlightSlots,
        ILogger logger,
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

            PeerIdentity remote;
            SslStream? tls = null;
            PresentedCertificates? presented = null;
            using (var handshakeTimeout = new CancellationTokenSource(options.HandshakeTimeout, time))
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(handshakeTimeout.Token, cancellationToken))
            {
                try
                {
                    PeerCertificateCheck? certified = null;
                    if (options.Certificates is { } certificates)
                    {
                        (tls, presented, PeerCertificateCheck check) = await PeerTls.AuthenticateAsClientAsync(socket, endpoint, options, certificates, linked.Token);
                        certified = check;
                    }

                    stream = new PeerStream(socket, tls);
                    remote = await HandshakeAsync(stream, endpoint, options, secret, linked.Token);
                    if (certified is { } proven && !string.Equals(proven.NodeId, remote.NodeId, StringComparison.Ordinal))
                    {
                        throw new PeerRefusedException($"peer at {endpoint} says it is node '{remote.NodeId}', but its certificate is node '{proven.NodeId}''s");
                    }
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

            var connection = new PeerClientConnection(stream, presented, remote, endpoint, options, time, inFlightSlots, logger);
            if (options.Certificates is { } watched)
            {
                watched.Changed += connection.OnCertificatesChanged;
                // The CAs may have changed since TLS checked the peer, before this subscription: check once more.
                connection.OnCertificatesChanged(null, new PeerCertificatesChangedEventArgs(localChanged: false, trustChanged: true));
            }

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

    /// <summary>
    /// Registers a request, then queues it; a connection that already failed fails <paramref name="callback"/> instead.
    /// The sweep fails the request after <paramref name="deadline"/>, a <see cref="TimeProvider.GetTimestamp"/>
    /// (<see cref="long.MaxValue"/>: never; the sender times it out itself and calls <see cref="Forget"/>). With
    /// <paramref name="holdsSlot"/>, the request holds one of the client's in-flight slots, released when it ends.
    /// The sweep reports the request to <see cref="IPeerResponseCallback.OnSlow"/> once after <paramref name="slowAt"/>.
    /// </summary>
    /// <returns>False, having done nothing, when the connection is retired and closing: the caller sends on another.</returns>
    public bool Send(ulong requestId, IPeerPayload request, IPeerResponseCallback callback, long deadline, bool holdsSlot, long slowAt = long.MaxValue)
    {
        Interlocked.Increment(ref _senders);
        try
        {
            if (Volatile.Read(ref _closing) != 0)
            {
                return false;
            }

            Register(requestId, request, callback, deadline, holdsSlot, slowAt);
            return true;
        }
        finally
        {
            Interlocked.Decrement(ref _senders);
        }
    }

    private void Register(ulong requestId, IPeerPayload request, IPeerResponseCallback callback, long deadline, bool holdsSlot, long slowAt)
    {
        _pending[requestId] = new PendingRequest(callback, deadline, holdsSlot, slowAt);

        // The registration must be visible before the due time is read, as the sweep resets the due time and then
        // looks for registrations: either this sender sees the reset and arms the timer, or the sweep sees this
        // request and arms it for it.
        Interlocked.MemoryBarrier();
        ScheduleSweep(Math.Min(deadline, slowAt));

        PeerUnavailableException? failure = _failure;
        if (failure is null && _stream.TrySend(requestId, request))
        {
            return;
        }

        if (_pending.TryRemove(requestId, out PendingRequest pending))
        {
            ReportFailure(End(pending), failure ?? new PeerUnavailableException($"connection to peer {Remote} at {EndPoint} is closed"));
        }
    }

    /// <summary>Drops a request that timed out or was cancelled: its late reply, if any, is ignored.</summary>
    public void Forget(ulong requestId) => _pending.TryRemove(requestId, out _);

    /// <summary>Closes the connection (client disposal); pending requests fail.</summary>
    public void Close() => Fail(new PeerUnavailableException($"connection to peer {Remote} at {EndPoint} was closed locally"));

    /// <summary>
    /// Stops new requests from using the connection; it closes once the requests on it are answered (or time out), and at
    /// the latest after <see cref="RetireGrace"/>. The sweep does the closing, one interval after the retirement at the
    /// earliest, so a sender that picked the connection just before registers its request first.
    /// </summary>
    public void Retire()
    {
        long now = _time.GetTimestamp();
        if (Interlocked.CompareExchange(ref _retiredAt, Math.Max(1, now), 0) == 0)
        {
            ScheduleSweep(now + SweepIntervalTicks);
        }
    }

    /// <summary>Over TLS: new certificates here, or CAs that no longer trust the peer's, retire the connection.</summary>
    private void OnCertificatesChanged(object? sender, PeerCertificatesChangedEventArgs change)
    {
        if (_presented is null || _options.Certificates is not { } certificates || !IsUsable)
        {
            return;
        }

        string? refusal = change.TrustChanged ? PeerTls.Recheck(_presented, _options, certificates) : null;
        if (refusal is not null)
        {
            // Retired, not closed: no new request goes to the peer, and the ones it holds may still be answered (closing
            // would fail them, and a CA rotation would then fail client requests). The peer's own node closes its side
            // if it no longer trusts this node.
            _logger.LogWarning("Replacing the connection to peer {Peer} at {EndPoint}: its certificate is no longer trusted ({Reason})", Remote, EndPoint, refusal);
            Retire();
        }
        else if (change.LocalChanged)
        {
            _logger.LogInformation("Replacing the connection to peer {Peer} at {EndPoint}, so it sees this node's new certificate", Remote, EndPoint);
            Retire();
        }
    }

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
                    if (_pending.TryRemove(header.RequestId, out PendingRequest pending))
                    {
                        var response = new PeerResponse(header.Type, header.RequestId, payload.ToArray(), Remote);
                        try
                        {
                            End(pending).OnResponse(response);
                        }
                        catch (Exception)
                        {
                            // Callbacks must not throw; one that does must not end the connection every other request shares.
                        }
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

    /// <summary>Gives back the request's in-flight slot, if it holds one; returns its callback, to report the outcome to.</summary>
    private IPeerResponseCallback End(PendingRequest pending)
    {
        if (pending.HoldsSlot)
        {
            _inFlightSlots.Release();
        }

        return pending.Callback;
    }

    private static void ReportFailure(IPeerResponseCallback callback, Exception error)
    {
        try
        {
            callback.OnFailure(error);
        }
        catch (Exception)
        {
            // Callbacks must not throw; one that does must not take the sweep's timer or the read loop down with it.
        }
    }

    private long SweepIntervalTicks => (long)(SweepInterval.TotalSeconds * _time.TimestampFrequency);

    /// <summary>Makes the sweep run at <paramref name="due"/> (a timestamp) at the latest; nothing when it is due
    /// sooner already, or <paramref name="due"/> is never.</summary>
    private void ScheduleSweep(long due)
    {
        if (due == long.MaxValue || due >= Volatile.Read(ref _sweepDue))
        {
            return;
        }

        lock (_sweepSwitch)
        {
            if (_sweepDisposed || due >= _sweepDue)
            {
                return;
            }

            Volatile.Write(ref _sweepDue, due);

            // Whole milliseconds, rounded up (timers count in them): a sweep that fired just before the deadline it was
            // armed for would leave that request for the next one.
            double wait = Math.Ceiling(_time.GetElapsedTime(_time.GetTimestamp(), due).TotalMilliseconds);
            _sweep.Change(TimeSpan.FromMilliseconds(Math.Max(wait, 0)), Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>The sweep: fails every request past its deadline, and reports the ones past their "slow" time once.</summary>
    private void FailExpired()
    {
        lock (_sweepSwitch)
        {
            Volatile.Write(ref _sweepDue, long.MaxValue);
        }

        // Seen only after the reset above, so a request registered meanwhile is either found below or arms the timer.
        Interlocked.MemoryBarrier();
        long now = _time.GetTimestamp();
        long retiredAt = Volatile.Read(ref _retiredAt);
        if (retiredAt != 0 && _time.GetElapsedTime(retiredAt, now) >= SweepInterval
            && (_pending.IsEmpty || _time.GetElapsedTime(retiredAt, now) >= RetireGrace))
        {
            // Close only with no sender between choosing this connection and registering its request: either a sender
            // sees the flag and goes to another connection, or this sees the sender and looks again next time.
            Interlocked.Exchange(ref _closing, 1);
            if (Volatile.Read(ref _senders) == 0 && (_pending.IsEmpty || _time.GetElapsedTime(retiredAt, now) >= RetireGrace))
            {
                Fail(new PeerUnavailableException($"connection to peer {Remote} at {EndPoint} was replaced (new certificates)"));
                return;
            }

            Interlocked.Exchange(ref _closing, 0);
        }

        // The next sweep: when the earliest request still pending is due, and a retired connection keeps looking until
        // it closes. Never sooner than an interval from now, so a busy connection sweeps at most that often.
        long next = retiredAt != 0 ? now : long.MaxValue;
        foreach (KeyValuePair<ulong, PendingRequest> entry in _pending)
        {
            if (entry.Value.Deadline <= now)
            {
                if (_pending.TryRemove(entry.Key, out PendingRequest pending))
                {
                    ReportFailure(End(pending), new TimeoutException($"request {entry.Key} to peer {Remote} at {EndPoint} got no reply in time"));
                }

                continue;
            }

            if (entry.Value.SlowAt <= now && _pending.TryUpdate(entry.Key, entry.Value with { SlowAt = long.MaxValue }, entry.Value))
            {
                try
                {
                    entry.Value.Callback.OnSlow();
                }
                catch (Exception)
                {
                    // Callbacks must not throw; one that does must not take the sweep's timer down with it.
                }

                next = Math.Min(next, entry.Value.Deadline);
                continue;
            }

            next = Math.Min(next, Math.Min(entry.Value.Deadline, entry.Value.SlowAt));
        }

        if (next != long.MaxValue)
        {
            ScheduleSweep(Math.Max(next, now + SweepIntervalTicks));
        }
    }

    private void Fail(PeerUnavailableException failure)
    {
        if (_options.Certificates is { } watched)
        {
            watched.Changed -= OnCertificatesChanged;
        }

        lock (_sweepSwitch)
        {
            _sweepDisposed = true;
            _sweep.Dispose();
        }

#pragma warning disable CS0420 // A volatile field passed by reference: Interlocked supplies the barrier.
        if (Interlocked.CompareExchange(ref _failure, failure, null) is null)
#pragma warning restore CS0420
        {
            _stream.Abort();
        }

        PeerUnavailableException reason = _failure!;
        foreach (ulong requestId in _pending.Keys)
        {
            if (_pending.TryRemove(requestId, out PendingRequest pending))
            {
                ReportFailure(End(pending), reason);
            }
        }
    }

    /// <summary>A request awaiting its reply.</summary>
    private readonly record struct PendingRequest(IPeerResponseCallback Callback, long Deadline, bool HoldsSlot, long SlowAt);
}
