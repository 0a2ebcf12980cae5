using System.Diagnostics;
using System.Net.Sockets;

namespace Dynamite.Cli.Bench;

/// <summary>
/// One load-generating connection, its own async loop: claim a batch (the pipeline depth), write it in one send,
/// read and count its replies, record each reply's latency from the moment the batch was written. Every wait
/// (connect, send, each reply) is bounded by the reply timeout: a batch that times out or breaks counts its
/// unanswered requests as errors and the connection reconnects (a few tries, then it gives up and says why).
/// </summary>
internal sealed class BenchConnection : IDisposable
{
    private const int ReceiveBufferSize = 128 * 1024;
    private const int ReconnectAttempts = 5;
    private static readonly double NanosecondsPerTick = 1e9 / Stopwatch.Frequency;

    private readonly BenchTarget _target;
    private readonly CommandTemplates _templates;
    private readonly TimeSpan _timeout;
    private readonly byte[] _receive = new byte[ReceiveBufferSize];
    private readonly Random _random = new();
    private RespReplyReader _reader = new();
    private CancellationTokenSource _batchTimeout = new();
    private byte[] _send = [];
    private Socket? _socket;
    private int _receiveStart;
    private int _receiveEnd;

    /// <summary>With <c>--cluster</c>: the slot map, and this connection's node in it; keys are drawn among that node's slots.</summary>
    private readonly (SlotRouting Routing, int Node)? _slots;

    public BenchConnection(BenchTarget target, CommandTemplates templates, TimeSpan timeout, (SlotRouting Routing, int Node)? slots = null)
    {
        _slots = slots;
        _target = target;
        _templates = templates;
        _timeout = timeout;
    }

    public BenchTarget Target => _target;

    /// <summary>Latencies in nanoseconds of every reply received in the measured phase.</summary>
    public LatencyHistogram Histogram { get; } = new();

    public long Requests { get; private set; }

    public long Errors { get; private set; }

    public long Reads { get; private set; }

    public long Writes { get; private set; }

    /// <summary>The first error reply's text, if any.</summary>
    public string? FirstErrorReply { get; private set; }

    /// <summary>Why this connection last failed (timeout, reset...), or null.</summary>
    public string? LastFailure { get; private set; }

    /// <summary>Set when the connection could not be re-established and stopped early.</summary>
    public bool Abandoned { get; private set; }

    /// <exception cref="BenchException">The target refused or did not answer in time.</exception>
    public async Task ConnectAsync()
    {
        _socket?.Dispose();
        _socket = null;
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var cts = new CancellationTokenSource(_timeout);
        try
        {
            await socket.ConnectAsync(_target.Host, _target.Port, cts.Token);
        }
        catch (OperationCanceledException)
        {
            socket.Dispose();
            throw new BenchException($"cannot connect to {_target}: no answer within {_timeout.TotalSeconds:0.#} s");
        }
        catch (SocketException exception)
        {
            socket.Dispose();
            throw new BenchException($"cannot connect to {_target}: {exception.Message}", exception);
        }

        _socket = socket;
        _reader = new RespReplyReader();
        _receiveStart = 0;
        _receiveEnd = 0;
    }

    /// <summary>Forgets the counters and latencies of an earlier phase (populating).</summary>
    public void ResetCounters()
    {
        Histogram.Reset();
        Requests = 0;
        Errors = 0;
        Reads = 0;
        Writes = 0;
    }

    /// <summary>
    /// Runs batches until <paramref name="run"/> has no more to give. Populating SETs keys first..first+n-1 of each
    /// claim in order; otherwise each request is a GET (with probability readPercent/100) or SET of a random key.
    /// </summary>
    public async Task RunAsync(BenchRun run, int pipeline, int readPercent, long keyspace, bool populate)
    {
        while (!Abandoned)
        {
            int count = run.Claim(pipeline, out long first);
            if (count == 0)
            {
                return;
            }

            int length = BuildBatch(count, first, readPercent, keyspace, populate);
            int received = 0;
            int errors = 0;
            try
            {
                _batchTimeout.CancelAfter(_timeout);
                CancellationToken token = _batchTimeout.Token;
                long start = Stopwatch.GetTimestamp();
                int sent = 0;
                while (sent < length)
                {
                    sent += await _socket!.SendAsync(_send.AsMemory(sent, length - sent), SocketFlags.None, token);
                }

                while (true)
                {
                    while (received < count)
                    {
                        bool complete = _reader.TryRead(_receive.AsSpan(_receiveStart, _receiveEnd - _receiveStart), out int consumed, out bool isError);
                        _receiveStart += consumed;
                        if (!complete)
                        {
                            break;
                        }

                        long nanoseconds = (long)((Stopwatch.GetTimestamp() - start) * NanosecondsPerTick);
                        Histogram.Record(nanoseconds);
                        received++;
                        if (isError)
                        {
                            errors++;
                        }
                    }

                    if (received == count)
                    {
                        break;
                    }

                    MakeRoom();
                    int read = await _socket!.ReceiveAsync(_receive.AsMemory(_receiveEnd), SocketFlags.None, token);
                    if (read == 0)
                    {
                        throw new IOException("the server closed the connection");
                    }

                    _receiveEnd += read;
                }

                if (!_batchTimeout.TryReset())
                {
                    _batchTimeout.Dispose();
                    _batchTimeout = new CancellationTokenSource();
                }
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or IOException or InvalidDataException or ObjectDisposedException)
            {
                LastFailure = exception is OperationCanceledException
                    ? $"{_target}: no reply within {_timeout.TotalSeconds:0.#} s"
                    : $"{_target}: {exception.Message}";
                errors += count - received;
                _batchTimeout.Dispose();
                _batchTimeout = new CancellationTokenSource();
                await ReconnectAsync();
            }

            FirstErrorReply ??= _reader.FirstError;
            Requests += count;
            Errors += errors;
            run.Finished(count, errors);
        }
    }

    private async Task ReconnectAsync()
    {
        for (int attempt = 0; attempt < ReconnectAttempts; attempt++)
        {
            try
            {
                await ConnectAsync();
                return;
            }
            catch (BenchException exception)
            {
                LastFailure = exception.Message;
                await Task.Delay(200);
            }
        }

        Abandoned = true;
    }

    private int BuildBatch(int count, long first, int readPercent, long keyspace, bool populate)
    {
        int most = count * Math.Max(_templates.Set.Length, _templates.Get.Length);
        if (_send.Length < most)
        {
            _send = new byte[most];
        }

        int length = 0;
        for (int i = 0; i < count; i++)
        {
            bool read = !populate && readPercent > 0 && (readPercent == 100 || _random.Next(100) < readPercent);
            long key = populate ? first + i
                : _slots is { } slots ? slots.Routing.DrawKey(_random, keyspace, slots.Node)
                : _random.NextInt64(keyspace);
            length += _templates.Write(_send.AsSpan(length), read, key);
            if (read)
            {
                Reads++;
            }
            else
            {
                Writes++;
            }
        }

        return length;
    }

    /// <summary>Keeps unparsed bytes and frees the rest of the receive buffer.</summary>
    private void MakeRoom()
    {
        if (_receiveStart == _receiveEnd)
        {
            _receiveStart = 0;
            _receiveEnd = 0;
            return;
        }

        if (_receiveEnd == _receive.Length)
        {
            if (_receiveStart == 0)
            {
                throw new InvalidDataException($"a reply line longer than {ReceiveBufferSize} bytes");
            }

            _receive.AsSpan(_receiveStart, _receiveEnd - _receiveStart).CopyTo(_receive);
            _receiveEnd -= _receiveStart;
            _receiveStart = 0;
        }
    }

    public void Dispose()
    {
        _socket?.Dispose();
        _batchTimeout.Dispose();
    }
}
