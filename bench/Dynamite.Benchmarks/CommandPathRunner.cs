using System.Buffers;
using Dynamite.Core.KeyValue;
using Dynamite.Protocols.Resp;
using Dynamite.Protocols.Resp.Commands;

namespace Dynamite.Benchmarks;

/// <summary>
/// What RespConnectionHandler does per request, minus the socket, the pipe and the flush: parse one request,
/// dispatch it through the command table to a store, write the reply. Shared by the single-node and the cluster
/// command-path benchmarks, which differ only in the store behind the server.
/// </summary>
public sealed class CommandPathRunner : IDisposable
{
    private readonly RespLimits _limits = new();
    private readonly BufferPipeWriter _output = new(64 * 1024);
    private readonly RespServer _server;
    private readonly CommandContext _context;

    public CommandPathRunner(IKeyValueStore store, RespMetrics? metrics = null)
    {
        _server = new RespServer(store, new RespServerOptions(), TimeProvider.System, metrics);
        var writer = new RespWriter();
        writer.Attach(_output);
        _context = new CommandContext(_server, new ClientSession(1, "127.0.0.1:1", "127.0.0.1:2", 0) { Authenticated = true }, writer);
        byte[] key = BenchmarkData.Key(1);
        Get = new ReadOnlySequence<byte>(BenchmarkData.Request(BenchmarkData.Ascii("GET"), key));
        Set = new ReadOnlySequence<byte>(BenchmarkData.Request(BenchmarkData.Ascii("SET"), key, BenchmarkData.Value()));
    }

    /// <summary>GET of the benchmark key.</summary>
    public ReadOnlySequence<byte> Get { get; }

    /// <summary>SET of the benchmark key to a 100-byte value.</summary>
    public ReadOnlySequence<byte> Set { get; }

    /// <summary>Runs one request; returns the reply's length. Throws if the command did not complete synchronously.</summary>
    public int Run(ReadOnlySequence<byte> buffer)
    {
        _output.Reset();
        if (!RespRequestParser.TryParse(ref buffer, _context.Request, _limits, unauthenticated: false))
        {
            throw new InvalidOperationException("the benchmark request did not parse");
        }

        Synchronous.Complete(CommandDispatcher.ExecuteAsync(_context));
        _context.Request.Release();
        return _output.WrittenCount;
    }

    public void Dispose() => _server.Dispose();
}
