using System.Net;
using System.Text;
using Dynamite.Core.Peer;
using Microsoft.Extensions.Logging;

namespace Dynamite.Cluster.Transport;

/// <summary>
/// The persistent connection from this node to one remote peer address, as in hashicorp/memberlist's TCP
/// transport but multiplexed: many requests in flight on one connection, each with its own id and timeout.
/// The connection is opened by the first request and reopened by the first request after it drops; failed
/// connects back off exponentially (<see cref="ReconnectBackoff"/>), on the injected clock.
/// </summary>
public sealed class PeerClient : IPeerClient, IAsyncDisposable
{
    private readonly PeerTransportOptions _options;
    private readonly byte[] _secret;
    private readonly TimeProvider _time;
    private readonly ILogger<PeerClient> _logger;

    /// <summary>Free in-flight slots across reconnects: a request holds one from before it connects until it ends.</summary>
    private readonly SemaphoreSlim _inFlight;

    /// <summary>Serializes connecting: one attempt at a time; guards <see cref="_backoff"/> and <see cref="_retryAt"/>.</summary>
    private readonly SemaphoreSlim _connectLock = new(1, 1);

    private readonly ReconnectBackoff _backoff;

    /// <summary>Earliest time of the next connect attempt after a failed one; guarded by <see cref="_connectLock"/>.</summary>
    private DateTimeOffset _retryAt = DateTimeOffset.MinValue;

    /// <summary>Why the last connect failed (for the back-off error); guarded by <see cref="_connectLock"/>.</summary>
    private Exception? _lastConnectError;

    /// <summary>Retired connections that were still answering requests when replaced; guarded by <see cref="_connectLock"/>.</summary>
    private readonly List<PeerClientConnection> _draining = [];

    /// <summary>The current connection, possibly dead; replaced under <see cref="_connectLock"/>, read without it.</summary>
    private volatile PeerClientConnection? _connection;

    /// <summary>Last request id handed out; ids are unique for the client's life, 0 is the handshake's.</summary>
    private long _lastRequestId;

    private int _disposed;

    public PeerClient(EndPoint remote, PeerTransportOptions options, TimeProvider time, ILogger<PeerClient> logger)
    {
        options.Validate();
        RemoteEndPoint = remote;
        _options = options;
        _secret = Encoding.UTF8.GetBytes(options.ClusterSecret);
        _time = time;
        _logger = logger;
        _inFlight = new SemaphoreSlim(options.MaxInFlightPerConnection, options.MaxInFlightPerConnection);
        _backoff = new ReconnectBackoff(options.ReconnectBackoffInitial, options.ReconnectBackoffMax);
    }

    public EndPoint RemoteEndPoint { get; }

    public PeerIdentity? RemoteIdentity { get; private set; }

    public bool IsConnected => _connection?.IsAlive == true;

    /// <summary>Sends with <see cref="PeerTransportOptions.DefaultRequestTimeout"/>.</summary>
    public Task<PeerResponse> SendAsync(IPeerPayload request, CancellationToken cancellationToken = default) =>
        SendAsync(request, _options.DefaultRequestTimeout, cancellationToken);

    public async Task<PeerResponse> SendAsync(IPeerPayload request, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        _ = request.PayloadLength; // Over-limit payloads fail here, in the caller, not on the writer loop.

        DateTimeOffset deadline = _time.GetUtcNow() + timeout;
        using var timeoutSource = new CancellationTokenSource(timeout, _time);
        using CancellationTokenSource? linked = cancellationToken.CanBeCanceled
            ? CancellationTokenSource.CreateLinkedTokenSource(timeoutSource.Token, cancellationToken)
            : null;
        CancellationToken token = linked?.Token ?? timeoutSource.Token;

        bool holdsSlot = false;
        PeerClientConnection? connection = null;
        ulong requestId = 0;
        try
        {
            await _inFlight.WaitAsync(token);
            holdsSlot = true;
            var pending = new ResponseTask();
            do
            {
                // A connection retired for new certificates may be closing as this request picks it: then the next.
                try
                {
                    connection = await GetConnectionAsync(deadline, token);
                }
                catch (PeerUnavailableException exception) when (!exception.NotSent)
                {
                    // No connection to send on: the request went nowhere (a caller may send it elsewhere).
                    throw new PeerUnavailableException(exception.Message, exception) { NotSent = true };
                }

                requestId = (ulong)Interlocked.Increment(ref _lastRequestId);
            }
            while (!connection.Send(requestId, request, pending, deadline: long.MaxValue, holdsSlot: false));

            return await pending.Task.WaitAsync(token);
        }
        catch (OperationCanceledException) when (timeoutSource.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"{request.Type} to peer {RemoteIdentity?.ToString() ?? RemoteEndPoint.ToString()} timed out after {timeout.TotalMilliseconds} ms");
        }
        finally
        {
            connection?.Forget(requestId);
            if (holdsSlot)
            {
                _inFlight.Release();
            }
        }
    }

    public void Send(IPeerPayload request, TimeSpan timeout, IPeerResponseCallback callback, TimeSpan? slowAfter = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(callback);
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            _ = request.PayloadLength; // Over-limit payloads fail here, not on the writer loop.
        }
        catch (Exception exception) when (exception is ObjectDisposedException or ArgumentException)
        {
            callback.OnFailure(exception);
            return;
        }

        // The fast path: connected and a slot free. No task, no timer: the connection's sweep enforces the deadline.
        PeerClientConnection? connection = _connection;
        if (connection is { IsUsable: true } && _inFlight.Wait(0))
        {
            ulong requestId = (ulong)Interlocked.Increment(ref _lastRequestId);
            long now = _time.GetTimestamp();
            long deadline = now + (long)(timeout.TotalSeconds * _time.TimestampFrequency);
            long slowAt = slowAfter is { } slow ? now + (long)(slow.TotalSeconds * _time.TimestampFrequency) : long.MaxValue;
            if (connection.Send(requestId, request, callback, deadline, holdsSlot: true, slowAt))
            {
                return;
            }

            _inFlight.Release();
        }

        // Connecting, backing off or saturated: the task path waits for all that within the same timeout.
        _ = SendThroughTaskAsync(request, timeout, callback);
    }

    private async Task SendThroughTaskAsync(IPeerPayload request, TimeSpan timeout, IPeerResponseCallback callback)
    {
        PeerResponse response;
        try
        {
            response = await SendAsync(request, timeout);
        }
        catch (Exception exception)
        {
            callback.OnFailure(exception);
            return;
        }

        callback.OnResponse(response);
    }

    /// <summary>Connects now if not connected (a request would do the same); for start-up and tests.</summary>
    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        TimeSpan budget = _options.ConnectTimeout + _options.HandshakeTimeout;
        await GetConnectionAsync(_time.GetUtcNow() + budget, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _connectLock.WaitAsync();
        try
        {
            _connection?.Close();
            foreach (PeerClientConnection retired in _draining)
            {
                retired.Close();
            }
        }
        finally
        {
            _connectLock.Release();
        }
    }

    private async ValueTask<PeerClientConnection> GetConnectionAsync(DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        PeerClientConnection? current = _connection;
        if (current is { IsUsable: true })
        {
            return current;
        }

        await _connectLock.WaitAsync(cancellationToken);
        try
        {
            current = _connection;
            if (current is { IsUsable: true })
            {
                return current;
            }

            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            DateTimeOffset now = _time.GetUtcNow();
            if (_retryAt > now)
            {
                // Backing off. Wait it out only when the request could still finish afterwards; otherwise fail
                // now, so a coordinator can turn to another replica instead of burning its whole timeout.
                if (_retryAt >= deadline)
                {
                    throw new PeerUnavailableException(
                        $"peer {RemoteEndPoint} is unreachable (next connect attempt in {(_retryAt - now).TotalMilliseconds:0} ms): {_lastConnectError?.Message}",
                        _lastConnectError!);
                }

                await Task.Delay(_retryAt - now, _time, cancellationToken);
            }

            try
            {
                current = await PeerClientConnection.ConnectAsync(RemoteEndPoint, _options, _secret, _time, _inFlight, _logger, cancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                TimeSpan delay = _backoff.NextDelay();
                _retryAt = _time.GetUtcNow() + delay;
                _lastConnectError = exception;
                _logger.LogWarning("Connecting to peer {EndPoint} failed (retry in {Delay} ms): {Reason}", RemoteEndPoint, delay.TotalMilliseconds, exception.Message);
                if (exception is PeerUnavailableException or PeerRefusedException)
                {
                    throw;
                }

                throw new PeerUnavailableException($"connecting to peer {RemoteEndPoint} failed: {exception.Message}", exception);
            }
            catch (OperationCanceledException)
            {
                // The request's own timeout or cancellation ended the attempt: still a failed attempt for the back-off.
                _retryAt = _time.GetUtcNow() + _backoff.NextDelay();
                _lastConnectError = new PeerUnavailableException($"connecting to peer {RemoteEndPoint} did not finish in time");
                throw;
            }

            _backoff.Reset();
            _retryAt = DateTimeOffset.MinValue;
            _lastConnectError = null;
            RemoteIdentity = current.Remote;
            if (_connection is { IsAlive: true } retired)
            {
                // A retired connection still answering its requests: closed with the client if it outlives it.
                _draining.RemoveAll(c => !c.IsAlive);
                _draining.Add(retired);
            }

            _connection = current;
            if (Volatile.Read(ref _disposed) != 0)
            {
                current.Close();
            }

            return current;
        }
        finally
        {
            _connectLock.Release();
        }
    }

    /// <summary>A <see cref="SendAsync(IPeerPayload, TimeSpan, CancellationToken)"/> request's reply, as a task whose continuations run on the thread pool, never on the read loop.</summary>
    private sealed class ResponseTask() : TaskCompletionSource<PeerResponse>(TaskCreationOptions.RunContinuationsAsynchronously), IPeerResponseCallback
    {
        public void OnResponse(PeerResponse response) => TrySetResult(response);

        public void OnFailure(Exception error) => TrySetException(error);
    }
}
