using System.Buffers;
using System.IO.Pipelines;

namespace Dynamite.Protocols.Resp.PubSub;

/// <summary>
/// What a subscriber (or a MONITOR client) is sent without asking, waiting for its connection's loop to write it: the
/// publisher never writes to another client's socket. Publishers append a shared, encoded frame and wake the loop
/// (<see cref="ClientSession.Wake"/>, which cancels its pending read); the loop writes everything waiting before each flush. Bounded
/// by <see cref="OutputBufferLimit"/>: a client that stops reading fills its socket, then this outbox, and is then
/// disconnected, as redis-server does, so a slow subscriber never grows the node's memory without bound.
/// </summary>
public sealed class ClientOutbox(Action wake, Action disconnect)
{
    private readonly Queue<byte[]> _frames = new();
    private readonly Lock _lock = new();
    private long _bytes;
    private long _softSinceMs = -1;
    private bool _overflowed;

    /// <summary>Bytes waiting, for CLIENT LIST's <c>omem</c>.</summary>
    public long QueuedBytes => Interlocked.Read(ref _bytes);

    /// <summary>True once the outbox passed its limit: the client is being disconnected and gets nothing more.</summary>
    public bool Overflowed => Volatile.Read(ref _overflowed);

    /// <summary>
    /// Queues <paramref name="frame"/> (shared: never modified) and wakes the connection (through <paramref name="wakes"/>
    /// when the caller delivers a round of messages); false when the client is over
    /// <paramref name="limit"/>, in which case it is disconnected and the frame dropped. (What the socket holds is not
    /// counted: once it is full the connection's flush waits, and this outbox grows to the limit.)
    /// </summary>
    public bool TryPush(byte[] frame, OutputBufferLimit limit, long nowMs, WakeList? wakes = null)
    {
        bool wasEmpty = false;
        bool overflowed;
        lock (_lock)
        {
            if (_overflowed)
            {
                return false;
            }

            long total = _bytes + frame.Length;
            _softSinceMs = limit.SoftBytes > 0 && total > limit.SoftBytes ? (_softSinceMs < 0 ? nowMs : _softSinceMs) : -1;
            overflowed = _overflowed = limit.IsExceeded(total, _softSinceMs, nowMs);
            if (overflowed)
            {
                _frames.Clear();
                Interlocked.Exchange(ref _bytes, 0);
            }
            else
            {
                wasEmpty = _frames.Count == 0;
                _frames.Enqueue(frame);
                Interlocked.Add(ref _bytes, frame.Length);
            }
        }

        if (overflowed)
        {
            disconnect();
            return false;
        }

        if (wasEmpty)
        {
            // Once the round ends (or now, on the thread pool): never inline, or the publisher would write every subscriber.
            if (wakes is null)
            {
                WakeList.Schedule(wake);
            }
            else
            {
                wakes.Add(wake);
            }
        }

        return true;
    }

    /// <summary>Writes every waiting frame to <paramref name="output"/> (not flushed); how many bytes.</summary>
    public long WriteTo(PipeWriter output) => Drain(output, static (pipe, frame) => pipe.Write(frame));

    /// <summary>
    /// Writes the frames queued so far into <paramref name="writer"/>, ahead of the reply it is about to carry: what a
    /// command caused before it ran (an eviction's invalidations) reaches the client before its reply, as on redis-server.
    /// </summary>
    public long WriteTo(RespWriter writer) => Drain(writer, static (target, frame) => target.WriteRaw(frame));

    private long Drain<TTarget>(TTarget target, Action<TTarget, byte[]> write)
    {
        long written = 0;
        while (true)
        {
            byte[] frame;
            lock (_lock)
            {
                if (!_frames.TryDequeue(out frame!))
                {
                    return written;
                }

                Interlocked.Add(ref _bytes, -frame.Length);
            }

            write(target, frame);
            written += frame.Length;
        }
    }
}
