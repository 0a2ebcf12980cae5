using System.Buffers;
using System.IO.Pipelines;

namespace Dynamite.Protocols.Resp;

/// <summary>
/// The reply of a pipelined command that runs while an earlier one is still pending: it is written here,
/// then copied to the connection's output once every earlier reply is there. Backed by a pooled array that
/// grows on demand and shrinks back after a large reply; <see cref="Dispose"/> returns it to the pool.
/// Written by one command at a time; not thread-safe.
/// </summary>
internal sealed class ReplyBuffer : PipeWriter, IDisposable
{
    private const int InitialBytes = 256;
    private const int KeptBytes = 64 * 1024;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(InitialBytes);
    private int _written;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    public override bool CanGetUnflushedBytes => true;

    public override long UnflushedBytes => _written;

    /// <summary>Forgets what was written, keeping the array unless it grew large.</summary>
    public void Reset()
    {
        _written = 0;
        if (_buffer.Length > KeptBytes)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = ArrayPool<byte>.Shared.Rent(InitialBytes);
        }
    }

    public override void Advance(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (_written + bytes > _buffer.Length)
        {
            throw new InvalidOperationException("Advanced past the end of the reply buffer.");
        }

        _written += bytes;
    }

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public override Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    public override void CancelPendingFlush()
    {
    }

    public override void Complete(Exception? exception = null)
    {
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(new FlushResult(isCanceled: false, isCompleted: false));

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        _written = 0;
    }

    private void Ensure(int sizeHint)
    {
        int needed = Math.Max(sizeHint, 1);
        if (_buffer.Length - _written >= needed)
        {
            return;
        }

        byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _written + needed));
        _buffer.AsSpan(0, _written).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = larger;
    }
}
