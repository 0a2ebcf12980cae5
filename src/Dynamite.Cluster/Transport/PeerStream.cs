using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Dynamite.Core.Peer;

namespace Dynamite.Cluster.Transport;

/// <summary>
/// One TCP connection (or TLS over it) as pipes, shared by both ends of the peer protocol. Reading belongs to one loop of the
/// owner (<see cref="Input"/>). Writing is serialized by a writer loop: any thread queues frames with
/// <see cref="TrySend"/>; the loop encodes every queued frame and flushes once per batch, as the RESP server
/// does (PERFORMANCE.md, "one flush per read batch"). The queue is unbounded because what feeds it is bounded:
/// requests by the client's in-flight limit, replies by the listener's.
/// </summary>
internal sealed class PeerStream
{
    /// <summary>Flush mid-batch once this much is buffered, so a burst of large replies streams instead of piling up.</summary>
    private const int FlushThresholdBytes = 64 * 1024;

    private readonly Socket _socket;

    /// <summary>What the pipes read and write: the socket's own stream, or TLS over it.</summary>
    private readonly Stream _transport;
    private readonly PipeWriter _output;
    private readonly Channel<PeerOutgoingFrame> _outgoing;
    private readonly Task _writing;

    /// <summary>0 while open, 1 once <see cref="Abort"/> ran; set once, by any thread.</summary>
    private int _aborted;

    /// <param name="socket">The connection; closed by <see cref="Abort"/>.</param>
    /// <param name="transport">TLS over <paramref name="socket"/> (disposed by <see cref="Abort"/>); null: the socket's bytes as they are.</param>
    public PeerStream(Socket socket, Stream? transport = null)
    {
        _socket = socket;
        _socket.NoDelay = true; // small request/reply frames: Nagle plus delayed ACKs would add ~40 ms each.
        RemoteEndPoint = socket.RemoteEndPoint;
        _transport = transport ?? new NetworkStream(socket, ownsSocket: false);
        Input = PipeReader.Create(_transport, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 4096, leaveOpen: true));
        _output = PipeWriter.Create(_transport, new StreamPipeWriterOptions(minimumBufferSize: 64 * 1024, leaveOpen: true));
        _outgoing = Channel.CreateUnbounded<PeerOutgoingFrame>(new UnboundedChannelOptions { SingleReader = true });
        _writing = WriteLoopAsync();
    }

    /// <summary>Read by the owner's single read loop only.</summary>
    public PipeReader Input { get; }

    public EndPoint? RemoteEndPoint { get; }

    public bool IsAborted => Volatile.Read(ref _aborted) != 0;

    /// <summary>Queues a frame; false once the stream is closing. Validates the payload's limits here, in the caller.</summary>
    public bool TrySend(ulong requestId, IPeerPayload payload)
    {
        _ = payload.PayloadLength;
        return _outgoing.Writer.TryWrite(new PeerOutgoingFrame(payload.Type, requestId, payload));
    }

    /// <summary>
    /// Reads exactly one frame (the handshake's lock-step exchange); null when the peer closed first. A small
    /// <paramref name="maxFrameBytes"/> keeps an unauthenticated peer from making this node buffer a large frame.
    /// </summary>
    public async ValueTask<(PeerFrameHeader Header, byte[] Payload)?> ReadFrameAsync(int maxFrameBytes, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result = await Input.ReadAsync(cancellationToken);
            ReadOnlySequence<byte> buffer = result.Buffer;
            if (PeerFrameCodec.TryReadFrame(ref buffer, maxFrameBytes, out PeerFrameHeader header, out ReadOnlySequence<byte> payload))
            {
                byte[] bytes = payload.ToArray();
                Input.AdvanceTo(buffer.Start);
                return (header, bytes);
            }

            Input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted || result.IsCanceled)
            {
                return null;
            }
        }
    }

    /// <summary>Lets queued frames (a Refused) reach the peer, within <paramref name="drainTimeout"/>, then closes.</summary>
    public async Task CloseAfterDrainAsync(TimeSpan drainTimeout)
    {
        _outgoing.Writer.TryComplete();
        try
        {
            await _writing.WaitAsync(drainTimeout);
        }
        catch (TimeoutException)
        {
        }

        Abort();
    }

    /// <summary>
    /// Closes at once, from any thread: the peer sees the connection end, the owner's read loop sees the end of
    /// its input, queued frames are dropped. Idempotent.
    /// </summary>
    public void Abort()
    {
        if (Interlocked.Exchange(ref _aborted, 1) != 0)
        {
            return;
        }

        _outgoing.Writer.TryComplete();
        try
        {
            // Shutdown first: a receive pending in the read loop then ends with end-of-stream rather than an error.
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }

        _socket.Dispose();
        try
        {
            // Frees TLS state; its pending reads and writes already failed with the socket.
            _transport.Dispose();
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    private async Task WriteLoopAsync()
    {
        // Yield so the constructor returns before the loop runs; from here on only this loop touches _output.
        await Task.Yield();
        ChannelReader<PeerOutgoingFrame> queue = _outgoing.Reader;
        try
        {
            while (await queue.WaitToReadAsync())
            {
                while (queue.TryRead(out PeerOutgoingFrame frame))
                {
                    PeerFrameCodec.WriteFrame(_output, frame.Type, frame.RequestId, frame.Payload);
                    if (_output.UnflushedBytes > FlushThresholdBytes && (await _output.FlushAsync()).IsCompleted)
                    {
                        return;
                    }
                }

                if ((await _output.FlushAsync()).IsCompleted)
                {
                    return;
                }
            }
        }
        catch (Exception) when (IsAborted)
        {
            // Closed under the loop's feet: nothing left to deliver to.
        }
        catch (Exception)
        {
            // A socket error: the stream is unusable; closing it tells the read loop and the peer.
            Abort();
        }
        finally
        {
            try
            {
                await _output.CompleteAsync();
            }
            catch (Exception)
            {
                // Completing flushes what is left; on a broken socket there is nowhere to flush it.
            }
        }
    }
}
