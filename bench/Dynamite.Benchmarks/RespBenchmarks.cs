using System.Buffers;
using BenchmarkDotNet.Attributes;
using Dynamite.Protocols.Resp;

namespace Dynamite.Benchmarks;

/// <summary>
/// RESP framing and reply writing: one operation is a pipelined batch of 16 requests (redis-benchmark -P 16),
/// which is what the connection loop parses and answers between two flushes.
/// </summary>
// Not sealed: BenchmarkDotNet emits a type deriving from each benchmark class.
public class RespBenchmarks
{
    private const int BatchSize = 16;

    private readonly RespLimits _limits = new();
    private readonly RespRequest _request = new();
    private readonly RespWriter _writer = new();
    private readonly BufferPipeWriter _output = new(64 * 1024);
    private readonly byte[] _value = BenchmarkData.Value();
    private ReadOnlySequence<byte> _getBatch;
    private ReadOnlySequence<byte> _setBatch;

    [GlobalSetup]
    public void Setup()
    {
        using var gets = new MemoryStream();
        using var sets = new MemoryStream();
        for (int i = 0; i < BatchSize; i++)
        {
            gets.Write(BenchmarkData.Request(BenchmarkData.Ascii("GET"), BenchmarkData.Key(i)));
            sets.Write(BenchmarkData.Request(BenchmarkData.Ascii("SET"), BenchmarkData.Key(i), _value));
        }

        _getBatch = new ReadOnlySequence<byte>(gets.ToArray());
        _setBatch = new ReadOnlySequence<byte>(sets.ToArray());
        _writer.Attach(_output);
    }

    [Benchmark]
    public int ParseGetBatch16() => ParseAll(_getBatch);

    [Benchmark]
    public int ParseSetBatch16() => ParseAll(_setBatch);

    [Benchmark]
    public int WriteBulkReplies16()
    {
        _output.Reset();
        for (int i = 0; i < BatchSize; i++)
        {
            _writer.WriteBulk(_value);
        }

        return _output.WrittenCount;
    }

    [Benchmark]
    public int WriteOkReplies16()
    {
        _output.Reset();
        for (int i = 0; i < BatchSize; i++)
        {
            _writer.WriteOk();
        }

        return _output.WrittenCount;
    }

    private int ParseAll(ReadOnlySequence<byte> buffer)
    {
        int parsed = 0;
        while (RespRequestParser.TryParse(ref buffer, _request, _limits, unauthenticated: false))
        {
            parsed += _request.Count;
            _request.Release();
        }

        return parsed;
    }
}
