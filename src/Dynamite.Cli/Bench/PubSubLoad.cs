using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Dynamite.Cli.Bench;

/// <summary>What <c>dynamite bench-pubsub</c> runs: subscribers and publishers spread over the targets.</summary>
internal sealed record PubSubLoadSettings(IReadOnlyList<BenchTarget> Targets, int Subscribers, int Publishers, int MessagesPerSecond, TimeSpan Duration, int PayloadBytes, TimeSpan DrainTimeout);

/// <summary>What the run measured: every message is checked per subscriber and per publisher for loss, repeats and order.</summary>
internal sealed record PubSubLoadResult(
    long Published,
    long PublishErrors,
    double Seconds,
    long Delivered,
    long Expected,
    long Missing,
    long MissingBetweenSteadyEnds,
    long Duplicates,
    long OutOfOrder,
    int Reconnections,
    double P50Ms,
    double P99Ms,
    double MaxMs);

/// <summary>
/// A pub/sub load: <see cref="PubSubLoadSettings.Subscribers"/> connections SUBSCRIBE to one channel, round-robin over
/// the targets; publishers, one per target by default, PUBLISH at a fixed total rate for the duration, each message
/// carrying its publisher, a sequence number and its send time. Every subscriber checks that it receives each
/// publisher's messages once and in order, and measures delivery latency. A subscriber or publisher whose node goes
/// away reconnects to the next target (as a client library does) and goes on; what subscribers that kept their node
/// missed of publishers that kept theirs is counted apart (nothing may be lost between them). Every loop is bounded by the duration and timeouts.
/// </summary>
internal static class PubSubLoad
{
    private static readonly byte[] Channel = "bench:pubsub"u8.ToArray();

    public static async Task<PubSubLoadResult> RunAsync(PubSubLoadSettings settings, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var subscribers = Enumerable.Range(0, settings.Subscribers).Select(i => new Subscriber(settings, i)).ToArray();
        Task[] listening = [.. subscribers.Select(s => s.RunAsync(stop.Token))];
        await Task.WhenAll(subscribers.Select(s => s.Subscribed.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken)));

        var publishers = Enumerable.Range(0, settings.Publishers).Select(i => new Publisher(settings, i)).ToArray();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(publishers.Select(p => p.RunAsync(cancellationToken)));
        double seconds = clock.Elapsed.TotalSeconds;
        long published = publishers.Sum(p => p.Sent);

        // Wait (bounded) for every acknowledged message to arrive, then stop listening.
        var drain = Stopwatch.StartNew();
        while (subscribers.Sum(s => s.Received) < published * subscribers.Length && drain.Elapsed < settings.DrainTimeout)
        {
            await Task.Delay(50, cancellationToken);
        }

        await stop.CancelAsync();
        await Task.WhenAll(listening);
        long[] latencies = [.. subscribers.SelectMany(s => s.LatencySamples).Order()];
        long missing = 0, missingSteady = 0;
        Publisher[] steadyPublishers = [.. publishers.Where(p => p.Reconnections == 0)];
        foreach (Subscriber subscriber in subscribers)
        {
            missing += subscriber.MissingFrom(publishers);
            if (subscriber.Reconnections == 0)
            {
                // Subscriber and publisher both kept their node: nothing between them may be lost.
                missingSteady += subscriber.MissingFrom(steadyPublishers);
            }
        }

        double Percentile(double p) => latencies.Length == 0 ? 0 : latencies[Math.Min(latencies.Length - 1, (int)(latencies.Length * p / 100))] * 1000.0 / Stopwatch.Frequency;
        return new PubSubLoadResult(
            published,
            publishers.Sum(p => p.Errors),
            seconds,
            subscribers.Sum(s => s.Received),
            published * subscribers.Length,
            missing,
            missingSteady,
            subscribers.Sum(s => s.Duplicates),
            subscribers.Sum(s => s.OutOfOrder),
            subscribers.Sum(s => s.Reconnections) + publishers.Sum(p => p.Reconnections),
            Percentile(50),
            Percentile(99),
            latencies.Length == 0 ? 0 : latencies[^1] * 1000.0 / Stopwatch.Frequency);
    }

    private static async Task<NetworkStream> ConnectAsync(BenchTarget target, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            await socket.ConnectAsync(target.Host, target.Port, timeout.Token);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new NetworkStream(socket, ownsSocket: true);
    }

    private static byte[] Command(params byte[][] arguments)
    {
        var output = new MemoryStream();
        output.Write(Encoding.ASCII.GetBytes($"*{arguments.Length}\r\n"));
        foreach (byte[] argument in arguments)
        {
            output.Write(Encoding.ASCII.GetBytes($"${argument.Length}\r\n"));
            output.Write(argument);
            output.Write("\r\n"u8);
        }

        return output.ToArray();
    }

    /// <summary>One publisher: a paced PUBLISH loop on one connection, its sequence numbers starting at 0.</summary>
    private sealed class Publisher(PubSubLoadSettings settings, int id)
    {
        public long Sent { get; private set; }

        public long Errors { get; private set; }

        public int Reconnections { get; private set; }

        public int Id => id;

        /// <summary>Sequence ranges [from, to) whose PUBLISH failed: they may or may not have reached subscribers.</summary>
        public List<(long From, long To)> Uncertain { get; } = [];

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            double perSecond = (double)settings.MessagesPerSecond / settings.Publishers;
            var clock = Stopwatch.StartNew();
            int targetIndex = id % settings.Targets.Count;
            NetworkStream? stream = null;
            var replies = new byte[64 * 1024];
            var payload = new byte[Math.Max(20, settings.PayloadBytes)];
            BinaryPrimitives.WriteInt32LittleEndian(payload, id);
            try
            {
                while (clock.Elapsed < settings.Duration && !cancellationToken.IsCancellationRequested)
                {
                    long due = (long)(clock.Elapsed.TotalSeconds * perSecond) - Sent;
                    if (due <= 0)
                    {
                        await Task.Delay(2, cancellationToken);
                        continue;
                    }

                    int batch = (int)Math.Min(due, 256);
                    try
                    {
                        stream ??= await ConnectAsync(settings.Targets[targetIndex], cancellationToken);
                        var frames = new MemoryStream();
                        for (int i = 0; i < batch; i++)
                        {
                            BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(4), Sent + i);
                            BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(12), Stopwatch.GetTimestamp());
                            frames.Write(Command("PUBLISH"u8.ToArray(), Channel, payload));
                        }

                        await stream.WriteAsync(frames.ToArray(), cancellationToken);
                        await ReadIntegerRepliesAsync(stream, replies, batch, cancellationToken);
                        Sent += batch;
                    }
                    catch (Exception exception) when (exception is IOException or SocketException or TimeoutException)
                    {
                        // The node went away: whether this batch was published is unknown; its numbers are skipped, not reused.
                        Errors++;
                        Uncertain.Add((Sent, Sent + batch));
                        Sent += batch;
                        stream?.Dispose();
                        stream = null;
                        Reconnections++;
                        targetIndex = (targetIndex + 1) % settings.Targets.Count;
                    }
                }
            }
            finally
            {
                stream?.Dispose();
            }
        }

        private static async Task ReadIntegerRepliesAsync(NetworkStream stream, byte[] buffer, int count, CancellationToken cancellationToken)
        {
            int lines = 0;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            while (lines < count)
            {
                int read;
                try
                {
                    read = await stream.ReadAsync(buffer, timeout.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new TimeoutException("no PUBLISH reply within 5 s");
                }

                if (read == 0)
                {
                    throw new IOException("the node closed the connection");
                }

                lines += buffer.AsSpan(0, read).Count((byte)'\n');
            }
        }
    }

    /// <summary>One subscriber: reads messages, checks each publisher's sequence, samples delivery latency.</summary>
    private sealed class Subscriber(PubSubLoadSettings settings, int id)
    {
        private readonly Dictionary<int, List<ulong>> _seen = [];
        private readonly Dictionary<int, long> _highest = [];
        private readonly List<long> _latencies = [];
        private readonly TaskCompletionSource _subscribed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _received;

        public Task Subscribed => _subscribed.Task;

        public long Received => Interlocked.Read(ref _received);

        public long Duplicates { get; private set; }

        public long OutOfOrder { get; private set; }

        public int Reconnections { get; private set; }

        public IReadOnlyList<long> LatencySamples => _latencies;

        /// <summary>
        /// Acknowledged messages of each of <paramref name="publishers"/> this subscriber never got, less the sequence
        /// numbers whose PUBLISH failed (they may never have been published).
        /// </summary>
        public long MissingFrom(IReadOnlyList<Publisher> publishers)
        {
            long missing = 0;
            foreach (Publisher publisher in publishers)
            {
                List<ulong> seen = _seen.GetValueOrDefault(publisher.Id) ?? [];
                for (long sequence = 0; sequence < publisher.Sent; sequence++)
                {
                    int word = (int)(sequence >> 6);
                    bool got = word < seen.Count && (seen[word] & (1UL << (int)(sequence & 63))) != 0;
                    if (!got && !publisher.Uncertain.Exists(u => sequence >= u.From && sequence < u.To))
                    {
                        missing++;
                    }
                }
            }

            return missing;
        }

        public async Task RunAsync(CancellationToken stop)
        {
            int targetIndex = id % settings.Targets.Count;
            var buffer = new byte[256 * 1024];
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await using NetworkStream stream = await ConnectAsync(settings.Targets[targetIndex], stop);
                    await stream.WriteAsync(Command("SUBSCRIBE"u8.ToArray(), Channel), stop);
                    await ReadAsync(stream, buffer, stop);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception exception) when (exception is IOException or SocketException or InvalidDataException or OperationCanceledException)
                {
                    Reconnections++;
                    targetIndex = (targetIndex + 1) % settings.Targets.Count;
                    await Task.Delay(100, CancellationToken.None);
                }
            }
        }

        private async Task ReadAsync(NetworkStream stream, byte[] buffer, CancellationToken stop)
        {
            int filled = 0;
            while (true)
            {
                if (filled == buffer.Length)
                {
                    throw new InvalidDataException("a frame larger than the read buffer");
                }

                int read = await stream.ReadAsync(buffer.AsMemory(filled), stop);
                if (read == 0)
                {
                    throw new IOException("the node closed the connection");
                }

                filled += read;
                int consumed = Parse(buffer.AsSpan(0, filled));
                buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
                filled -= consumed;
            }
        }

        /// <summary>Handles every complete frame; returns the bytes consumed.</summary>
        private int Parse(ReadOnlySpan<byte> data)
        {
            int position = 0;
            while (TryFrame(data[position..], out int length, out ReadOnlySpan<byte> kind, out ReadOnlySpan<byte> payload))
            {
                position += length;
                if (kind.SequenceEqual("subscribe"u8))
                {
                    _subscribed.TrySetResult();
                }
                else if (kind.SequenceEqual("message"u8) && payload.Length >= 20)
                {
                    Record(BinaryPrimitives.ReadInt32LittleEndian(payload), BinaryPrimitives.ReadInt64LittleEndian(payload[4..]), BinaryPrimitives.ReadInt64LittleEndian(payload[12..]));
                }
            }

            return position;
        }

        private void Record(int publisher, long sequence, long sentAt)
        {
            Interlocked.Increment(ref _received);
            if (!_seen.TryGetValue(publisher, out List<ulong>? seen))
            {
                seen = [];
                _seen[publisher] = seen;
            }

            int word = (int)(sequence >> 6);
            while (seen.Count <= word)
            {
                seen.Add(0);
            }

            ulong bit = 1UL << (int)(sequence & 63);
            if ((seen[word] & bit) != 0)
            {
                Duplicates++;
                return;
            }

            seen[word] |= bit;
            if (sequence < _highest.GetValueOrDefault(publisher, -1))
            {
                OutOfOrder++;
            }
            else
            {
                _highest[publisher] = sequence;
            }
            if ((_received & 63) == 0)
            {
                _latencies.Add(Stopwatch.GetTimestamp() - sentAt);
            }
        }

        /// <summary>A complete <c>*3 kind channel payload</c> frame (or a push, <c>&gt;3</c>); false when more bytes are needed.</summary>
        private static bool TryFrame(ReadOnlySpan<byte> data, out int length, out ReadOnlySpan<byte> kind, out ReadOnlySpan<byte> payload)
        {
            length = 0;
            kind = payload = default;
            if (!TryLine(data, 0, out ReadOnlySpan<byte> header, out int position))
            {
                return false;
            }

            if (header.Length < 2 || header[0] is not ((byte)'*' or (byte)'>'))
            {
                throw new InvalidDataException($"unexpected frame '{Encoding.ASCII.GetString(header)}'");
            }

            int elements = header[1] - '0';
            ReadOnlySpan<byte> last = default;
            for (int i = 0; i < elements; i++)
            {
                if (!TryLine(data, position, out ReadOnlySpan<byte> line, out position))
                {
                    return false;
                }

                if (line[0] == (byte)':')
                {
                    continue;
                }

                int size = int.Parse(line[1..], provider: System.Globalization.CultureInfo.InvariantCulture);
                if (data.Length < position + size + 2)
                {
                    return false;
                }

                last = data.Slice(position, size);
                if (i == 0)
                {
                    kind = last;
                }

                position += size + 2;
            }

            payload = last;
            length = position;
            return true;
        }

        private static bool TryLine(ReadOnlySpan<byte> data, int start, out ReadOnlySpan<byte> line, out int next)
        {
            int end = data[start..].IndexOf("\r\n"u8);
            if (end < 0)
            {
                line = default;
                next = start;
                return false;
            }

            line = data.Slice(start, end);
            next = start + end + 2;
            return true;
        }
    }
}
