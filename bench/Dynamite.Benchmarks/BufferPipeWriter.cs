using System.IO.Pipelines;

namespace Dynamite.Benchmarks;

/// <summary>
/// A <see cref="PipeWriter"/> over one reusable array, so <c>RespWriter</c> can be measured without a socket
/// or a <see cref="Pipe"/>: the pipe's own segment pooling would otherwise show up in the numbers. A benchmark
/// calls <see cref="Reset"/> once per operation; nothing is ever flushed anywhere.
/// </summary>
public sealed class BufferPipeWriter(int capacity) : PipeWriter
{
    private byte[] _buffer = new byte[capacity];
    private int _written;

    public int WrittenCount => _written;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    public void Reset() => _written = 0;

    public override void Advance(int bytes) => _written += bytes;

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        EnsureRoom(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public override Span<byte> GetSpan(int sizeHint = 0)
    {
        EnsureRoom(sizeHint);
        return _buffer.AsSpan(_written);
    }

    public override void CancelPendingFlush()
    {
    }

    public override void Complete(Exception? exception = null)
    {
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) =>
        new(new FlushResult(isCanceled: false, isCompleted: false));

    private void EnsureRoom(int sizeHint)
    {
        // Growing would allocate inside a measured operation; it only happens if a benchmark forgot to Reset.
        int needed = Math.Max(sizeHint, 1);
        if (_buffer.Length - _written < needed)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _written + needed));
        }
    }
}
