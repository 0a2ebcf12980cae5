using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Dynamite.Cluster.Transport;

/// <summary>
/// Accepts peer connections on one TCP endpoint and serves each (<see cref="PeerServerConnection"/>): handshake,
/// then requests to the <see cref="IPeerRequestHandler"/>. A connection that fails (garbage, a wrong secret, a
/// handshake that never completes) is closed alone; the listener keeps serving the others.
/// </summary>
public sealed class PeerListener : IAsyncDisposable
{
    private readonly PeerTransportOptions _options;
    private readonly byte[] _secret;
    private readonly IPeerRequestHandler _handler;
    private readonly TimeProvider _time;
    private readonly ILogger<PeerListener> _logger;

    /// <summary>Cancelled by <see cref="StopAsync"/>; every loop of this listener watches it.</summary>
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Live connections and the task serving each; entries remove themselves when they end.</summary>
    private readonly ConcurrentDictionary<PeerServerConnection, Task> _connections = new();

    /// <summary>Set by <see cref="Start"/>; null before and after.</summary>
    private Socket? _socket;

    private Task _accepting = Task.CompletedTask;

    public PeerListener(PeerTransportOptions options, IPeerRequestHandler handler, TimeProvider time, ILogger<PeerListener> logger)
    {
        options.Validate();
        _options = options;
        _secret = Encoding.UTF8.GetBytes(options.ClusterSecret);
        _handler = handler;
        _time = time;
        _logger = logger;
    }

    /// <summary>The bound endpoint (with the real port when started on port 0).</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <summary>Connections accepted and not yet closed, in or after the handshake.</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>Binds and starts accepting. Throws SocketException when the endpoint is in use.</summary>
    public void Start(IPEndPoint endpoint)
    {
        if (_socket is not null)
        {
            throw new InvalidOperationException("the peer listener is already started");
        }

        ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // A restarted node rebinds its port while the old connections sit in TIME_WAIT.
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(endpoint);
            socket.Listen(512);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        _socket = socket;
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        _accepting = AcceptLoopAsync(socket);
        _logger.LogInformation("Peer listener on {EndPoint}", LocalEndPoint);
    }

    /// <summary>Stops accepting, closes every connection (their clients see the drop) and waits for the loops to end.</summary>
    public async Task StopAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync();
        _socket?.Dispose();
        foreach (PeerServerConnection connection in _connections.Keys)
        {
            connection.Abort();
        }

        await _accepting;
        await Task.WhenAll(_connections.Values);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync(Socket listening)
    {
        CancellationToken stopping = _stopping.Token;
        while (!stopping.IsCancellationRequested)
        {
            Socket accepted;
            try
            {
                accepted = await listening.AcceptAsync(stopping);
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException exception)
            {
                // Per-connection accept errors (a reset before accept, descriptor exhaustion): keep listening.
                _logger.LogWarning("Accepting a peer connection failed: {Error}", exception.SocketErrorCode);
                continue;
            }

            var connection = new PeerServerConnection(accepted, _options, _secret, _handler, _time, _logger);
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _connections[connection] = RunConnectionAsync(connection, started.Task, stopping);
            started.SetResult();
        }
    }

    private async Task RunConnectionAsync(PeerServerConnection connection, Task registered, CancellationToken stopping)
    {
        // Wait until the entry is in the table, so the removal below never precedes the insertion.
        await registered;
        try
        {
            await connection.RunAsync(stopping);
        }
        finally
        {
            _connections.TryRemove(connection, out _);
        }
    }
}
