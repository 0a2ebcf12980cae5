using System.Buffers;
using Dynamite.Cluster.Local;
using Dynamite.Core.Partitioning;
using Dynamite.Protocols.Resp;
using Dynamite.Protocols.Resp.Commands;
using Dynamite.Storage.Memory;
using BenchmarkDotNet.Attributes;

namespace Dynamite.Benchmarks;

/// <summary>
/// The whole single-node request path without the socket: parse one request, dispatch it through the command
/// table to a LocalKeyValueStore over the memory engine, write the reply. The allocation per GET and per SET
/// reported here is the request path's allocation (issue 7); GET must stay at zero (PERFORMANCE.md).
/// </summary>
// Not sealed: BenchmarkDotNet emits a type deriving from each benchmark class.
public class CommandPathBenchmarks
{
    private readonly RespLimits _limits = new();
    private readonly BufferPipeWriter _output = new(64 * 1024);
    private RespServer _server = null!;
    private CommandContext _context = null!;
    private ReadOnlySequence<byte> _get;
    private ReadOnlySequence<byte> _set;

    [GlobalSetup]
    public void Setup()
    {
        var engine = new MemoryStorageEngine(new KeyPartitioner(8));
        var store = new LocalKeyValueStore(engine, TimeProvider.System);
        _server = new RespServer(store, new RespServerOptions(), TimeProvider.System);
        var writer = new RespWriter();
        writer.Attach(_output);
        _context = new CommandContext(_server, new ClientSession(1, "127.0.0.1:1", "127.0.0.1:2", 0) { Authenticated = true }, writer);
        byte[] key = BenchmarkData.Key(1);
        _get = new ReadOnlySequence<byte>(BenchmarkData.Request(BenchmarkData.Ascii("GET"), key));
        _set = new ReadOnlySequence<byte>(BenchmarkData.Request(BenchmarkData.Ascii("SET"), key, BenchmarkData.Value()));
        Run(_set);
    }

    [GlobalCleanup]
    public void Cleanup() => _server.Dispose();

    [Benchmark]
    public int Get() => Run(_get);

    [Benchmark]
    public int Set() => Run(_set);

    /// <summary>What RespConnectionHandler does per request, minus the pipe and the flush.</summary>
    private int Run(ReadOnlySequence<byte> buffer)
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
}
