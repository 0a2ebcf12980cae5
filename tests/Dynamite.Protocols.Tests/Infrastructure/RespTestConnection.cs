using System.IO.Pipelines;
using System.Text;
using Dynamite.Core.KeyValue;
using Dynamite.Protocols.Resp;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dynamite.Protocols.Tests.Infrastructure;

/// <summary>A RESP connection served in memory by <see cref="RespConnectionHandler"/>.</summary>
internal sealed class RespTestConnection : IAsyncDisposable
{
    private readonly Pipe _toServer = new();
    private readonly Pipe _toClient = new();
    private readonly RespServer _server;
    private readonly bool _ownsServer;
    private Task _serving = Task.CompletedTask;

    private RespTestConnection(RespServer server, bool ownsServer)
    {
        _server = server;
        _ownsServer = ownsServer;
    }

    /// <summary>The server this connection talks to.</summary>
    public RespServer Server => _server;

    /// <summary>A client of a new server over <paramref name="store"/>, on <paramref name="clock"/> (default: the system's).</summary>
    public static RespTestConnection Start(IKeyValueStore store, RespMetrics? metrics = null, TimeProvider? clock = null) =>
        Serve(new RespTestConnection(new RespServer(store, new RespServerOptions(), clock ?? TimeProvider.System, metrics), ownsServer: true));

    /// <summary>Another client of <paramref name="first"/>'s server; disposing it leaves the server to <paramref name="first"/>.</summary>
    public static RespTestConnection StartBeside(RespTestConnection first) => Serve(new RespTestConnection(first._server, ownsServer: false));

    private static RespTestConnection Serve(RespTestConnection connection)
    {
        var handler = new RespConnectionHandler(connection._server, NullLogger<RespConnectionHandler>.Instance);
        var transport = new Duplex(connection._toServer.Reader, connection._toClient.Writer);
        var application = new Duplex(connection._toClient.Reader, connection._toServer.Writer);
        connection._serving = Task.Run(() => handler.OnConnectedAsync(new DefaultConnectionContext("test", transport, application)));
        return connection;
    }

    public async Task SendAsync(string text) => await _toServer.Writer.WriteAsync(Encoding.UTF8.GetBytes(text));

    public async Task SendAsync(byte[] bytes) => await _toServer.Writer.WriteAsync(bytes);

    /// <summary>Reads and drops <paramref name="bytes"/> bytes without decoding them.</summary>
    public async Task SkipAsync(int bytes)
    {
        while (bytes > 0)
        {
            System.IO.Pipelines.ReadResult result = await _toClient.Reader.ReadAsync();
            long take = Math.Min(bytes, result.Buffer.Length);
            _toClient.Reader.AdvanceTo(result.Buffer.GetPosition(take));
            bytes -= (int)take;
        }
    }

    /// <summary>Reads until as many bytes as <paramref name="expected"/> has arrived (or a timeout), and returns them.</summary>
    public async Task<string> ReceiveAsync(string expected)
    {
        int bytes = Encoding.UTF8.GetByteCount(expected);
        DateTime deadline = DateTime.UtcNow + RespText.Timeout;
        while (true)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
            System.IO.Pipelines.ReadResult result;
            try
            {
                result = await _toClient.Reader.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (DateTime.UtcNow < deadline)
            {
                continue;
            }
            catch (OperationCanceledException)
            {
                // Return what arrived, for the assertion's message.
                _toClient.Reader.TryRead(out result);
                return Encoding.UTF8.GetString(result.Buffer);
            }

            if (result.Buffer.Length >= bytes || result.IsCompleted)
            {
                long length = Math.Min(bytes, result.Buffer.Length);
                string text = Encoding.UTF8.GetString(result.Buffer.Slice(0, length));
                _toClient.Reader.AdvanceTo(result.Buffer.GetPosition(length));
                return text;
            }

            _toClient.Reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _toServer.Writer.CompleteAsync();
        await _serving.WaitAsync(RespText.Timeout);
        if (_ownsServer)
        {
            _server.Dispose();
        }
    }
}

internal sealed record Duplex(PipeReader Input, PipeWriter Output) : IDuplexPipe;
