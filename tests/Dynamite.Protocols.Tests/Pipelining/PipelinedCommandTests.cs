using System.Diagnostics.Metrics;
using System.IO.Pipelines;
using System.Text;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Quorum;
using Dynamite.Protocols.Resp;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Dynamite.Protocols.Tests.Pipelining;

/// <summary>
/// Pipelined commands of one connection over a store whose operations wait (as a cluster's quorum does):
/// distinct keys run at once, replies keep request order, a shared key or a barrier serialises.
/// </summary>
[Collection(ProcessMeasurementCollection.Name)]
public sealed class PipelinedCommandTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Distinct_keys_run_concurrently_and_replies_keep_request_order()
    {
        var gates = new List<TaskCompletionSource>();
        var store = new GatedStore(_ =>
        {
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (gates)
            {
                gates.Add(gate);
            }

            return gate.Task;
        });
        store.Seed("a", "1");
        store.Seed("b", "2");
        store.Seed("c", "3");
        await using var connection = Connection.Start(store);

        await connection.SendAsync(Command("GET", "a") + Command("GET", "b") + Command("SET", "c", "30") + Command("GET", "d"));
        await WaitUntilAsync(() => store.Started == 4);
        Assert.Equal(4, store.MaxInFlight);

        // Complete them last to first: the replies must still come back first to last.
        for (int i = 3; i >= 0; i--)
        {
            lock (gates)
            {
                gates[i].SetResult();
            }

            int released = i;
            await WaitUntilAsync(() => store.EndOrder(released) >= 0);
        }

        const string expected = "$1\r\n1\r\n$1\r\n2\r\n+OK\r\n$-1\r\n";
        Assert.Equal(expected, await connection.ReceiveAsync(expected));
        Assert.Equal("30", store.Value("c"));
    }

    [Fact]
    public async Task Same_key_commands_see_each_other_in_order()
    {
        // Earlier operations wait longer, so any overlap on a key would reorder what the later ones see.
        var store = new GatedStore(index => Task.Delay(Math.Max(1, 40 - (index * 5))));
        await using var connection = Connection.Start(store);

        await connection.SendAsync(
            Command("SET", "k", "a") + Command("GET", "k") + Command("SET", "x", "1") + Command("SET", "k", "b")
            + Command("GET", "k") + Command("INCR", "x") + Command("GET", "x") + Command("DEL", "k") + Command("GET", "k"));

        const string expected = "+OK\r\n$1\r\na\r\n+OK\r\n+OK\r\n$1\r\nb\r\n:2\r\n$1\r\n2\r\n:1\r\n$-1\r\n";
        Assert.Equal(expected, await connection.ReceiveAsync(expected));
        Assert.False(store.OverlappedOnOneKey, "two operations on one key ran at once");
    }

    [Fact]
    public async Task Barrier_commands_wait_for_everything_before_them_and_run_alone()
    {
        var store = new GatedStore(index => Task.Delay(Math.Max(1, 30 - (index * 5))));
        await using var connection = Connection.Start(store);

        await connection.SendAsync(
            Command("SET", "a", "1") + Command("GET", "b") + Command("SELECT", "0") + Command("GET", "a")
            + Command("SET", "b", "2") + Command("CLIENT", "SETNAME", "pipelined") + Command("GET", "b") + Command("CLIENT", "GETNAME"));

        const string expected = "+OK\r\n$-1\r\n+OK\r\n$1\r\n1\r\n+OK\r\n+OK\r\n$1\r\n2\r\n$9\r\npipelined\r\n";
        Assert.Equal(expected, await connection.ReceiveAsync(expected));

        // Operations 0 and 1 (SET a, GET b) overlapped; SELECT waited for both, so GET a (2) started after they ended.
        Assert.True(store.StartOrder(2) > store.EndOrder(0) && store.StartOrder(2) > store.EndOrder(1));
        // CLIENT SETNAME waited for GET a and SET b, so GET b (4) started after both ended.
        Assert.True(store.StartOrder(4) > store.EndOrder(2) && store.StartOrder(4) > store.EndOrder(3));
        Assert.Equal(2, store.MaxInFlight);
    }

    [Fact]
    public async Task A_long_pipeline_of_distinct_keys_fills_the_window_and_keeps_order()
    {
        var random = new Random(7);
        var store = new GatedStore(_ => Task.Delay(random.Next(1, 6)));
        await using var connection = Connection.Start(store);
        var request = new StringBuilder();
        var expected = new StringBuilder();
        for (int i = 0; i < 100; i++)
        {
            string value = $"v{i}";
            request.Append(Command("SET", $"key{i}", value)).Append(Command("GET", $"key{i}"));
            expected.Append("+OK\r\n").Append($"${value.Length}\r\n{value}\r\n");
        }

        await connection.SendAsync(request.ToString());

        Assert.Equal(expected.ToString(), await connection.ReceiveAsync(expected.ToString()));
        Assert.False(store.OverlappedOnOneKey, "two operations on one key ran at once");
        Assert.True(store.MaxInFlight > 1);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Inline_commands_with_nothing_pending_allocate_nothing_per_request(bool measured)
    {
        // Measured: the command histogram is enabled (a listener that ignores what it hears), so every command is timed.
        using var meter = new Meter("Dynamite");
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>(static (_, _, _, _) => { });
        listener.Start();
        await using var connection = Connection.Start(new InlineStore(), measured ? new RespMetrics(meter) : null);
        byte[] batch = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(Command("GET", "missing"), 1000)));
        string replies = string.Concat(Enumerable.Repeat("$-1\r\n", 1000));

        // Warm up (several batches: the first case in the process also pays for the runtime's one-time work, such as
        // tiered compilation, on other threads), then count what 20 batches of 1000 pipelined GETs allocate on every thread.
        for (int i = 0; i < 5; i++)
        {
            await connection.SendAsync(batch);
            Assert.Equal(replies, await connection.ReceiveAsync(replies));
        }

        // The counter is the whole process's: other work (the runtime's, a previous test's leftovers) can land in one
        // window, never the same amount in every one. The request path's own cost is the least of three windows.
        long perRequest = long.MaxValue;
        for (int window = 0; window < 3; window++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            for (int i = 0; i < 20; i++)
            {
                await connection.SendAsync(batch);
                await connection.SkipAsync(replies.Length);
            }

            perRequest = Math.Min(perRequest, (GC.GetTotalAllocatedBytes(precise: true) - before) / 20_000);
        }

        Assert.True(perRequest < 4, $"{perRequest} bytes allocated per request");
    }

    private static string Command(params string[] arguments)
    {
        var text = new StringBuilder().Append('*').Append(arguments.Length).Append("\r\n");
        foreach (string argument in arguments)
        {
            text.Append('$').Append(Encoding.UTF8.GetByteCount(argument)).Append("\r\n").Append(argument).Append("\r\n");
        }

        return text.ToString();
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        DateTime deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            await Task.Delay(5);
        }
    }

    /// <summary>A RESP connection served in memory by <see cref="RespConnectionHandler"/>.</summary>
    private sealed class Connection : IAsyncDisposable
    {
        private readonly Pipe _toServer = new();
        private readonly Pipe _toClient = new();
        private readonly RespServer _server;
        private Task _serving = Task.CompletedTask;

        private Connection(IKeyValueStore store, RespMetrics? metrics)
        {
            _server = new RespServer(store, new RespServerOptions(), TimeProvider.System, metrics);
        }

        public static Connection Start(IKeyValueStore store, RespMetrics? metrics = null)
        {
            var connection = new Connection(store, metrics);
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
            DateTime deadline = DateTime.UtcNow + Timeout;
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
            await _serving.WaitAsync(Timeout);
            _server.Dispose();
        }
    }

    private sealed record Duplex(PipeReader Input, PipeWriter Output) : IDuplexPipe;

    /// <summary>A store where every key is missing and every call completes at once, like a single node.</summary>
    private sealed class InlineStore : IKeyValueStore
    {
        public long NowUnixMs => 0;

        public long KeyCount => 0;

        public long KeysWithExpiryCount => 0;

        public ValueTask<Dynamite.Core.KeyValue.ReadResult> ReadAsync(ReadOnlyMemory<byte> key, ConsistencyLevel? consistency = null, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Dynamite.Core.KeyValue.ReadResult.NotFound);

        public ValueTask ExecuteAsync(IStorageOperation operation, ConsistencyLevel? consistency = null, CancellationToken cancellationToken = default) =>
            ValueTask.CompletedTask;

        public ScanPage Scan(ulong fromHash, int limit) => new([], null);

        public ValueTask ClearAsync(CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
    }

    /// <summary>
    /// A dictionary store whose every operation first waits for a gate chosen by its start order, then runs.
    /// Records how many operations were in flight at once, whether two on one key overlapped, and the order
    /// in which operations started and ended.
    /// </summary>
    private sealed class GatedStore(Func<int, Task> gate) : IKeyValueStore
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<string, StoredRecord> _data = [];
        private readonly Dictionary<string, int> _busyKeys = [];
        private readonly List<string> _events = [];
        private int _inFlight;

        public int Started { get; private set; }

        public int MaxInFlight { get; private set; }

        public bool OverlappedOnOneKey { get; private set; }

        public long NowUnixMs => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        public long KeyCount => _data.Count;

        public long KeysWithExpiryCount => 0;

        public void Seed(string key, string value) => _data[key] = new StoredRecord(Encoding.UTF8.GetBytes(value), 0);

        public string? Value(string key)
        {
            lock (_lock)
            {
                return _data.TryGetValue(key, out StoredRecord record) ? Encoding.UTF8.GetString(record.Value) : null;
            }
        }

        public int StartOrder(int operation)
        {
            lock (_lock)
            {
                return _events.IndexOf($"start {operation}");
            }
        }

        public int EndOrder(int operation)
        {
            lock (_lock)
            {
                return _events.IndexOf($"end {operation}");
            }
        }

        public async ValueTask<Dynamite.Core.KeyValue.ReadResult> ReadAsync(ReadOnlyMemory<byte> key, ConsistencyLevel? consistency = null, CancellationToken cancellationToken = default)
        {
            string name = Encoding.UTF8.GetString(key.Span);
            int index = Begin([name]);
            await gate(index);
            lock (_lock)
            {
                End(index, [name]);
                return _data.TryGetValue(name, out StoredRecord record) ? Dynamite.Core.KeyValue.ReadResult.Of(record) : Dynamite.Core.KeyValue.ReadResult.NotFound;
            }
        }

        public async ValueTask ExecuteAsync(IStorageOperation operation, ConsistencyLevel? consistency = null, CancellationToken cancellationToken = default)
        {
            string[] keys = [.. Enumerable.Range(0, operation.TouchedKeyCount).Select(i => Encoding.UTF8.GetString(operation.GetTouchedKey(i)))];
            int index = Begin(keys);
            await gate(index);
            lock (_lock)
            {
                End(index, keys);
                operation.Execute(new Transaction(this));
            }
        }

        public ScanPage Scan(ulong fromHash, int limit) => new([], null);

        public ValueTask ClearAsync(CancellationToken cancellationToken = default)
        {
            lock (_lock)
            {
                _data.Clear();
            }

            return ValueTask.CompletedTask;
        }

        private int Begin(string[] keys)
        {
            lock (_lock)
            {
                int index = Started++;
                _inFlight++;
                MaxInFlight = Math.Max(MaxInFlight, _inFlight);
                foreach (string key in keys)
                {
                    int busy = _busyKeys.GetValueOrDefault(key);
                    OverlappedOnOneKey |= busy > 0;
                    _busyKeys[key] = busy + 1;
                }

                _events.Add($"start {index}");
                return index;
            }
        }

        private void End(int index, string[] keys)
        {
            _inFlight--;
            foreach (string key in keys)
            {
                _busyKeys[key]--;
            }

            _events.Add($"end {index}");
        }

        private sealed class Transaction(GatedStore store) : IStorageTransaction
        {
            public long NowUnixMs => store.NowUnixMs;

            public bool TryRead(ReadOnlySpan<byte> key, out StoredRecord record) => store._data.TryGetValue(Encoding.UTF8.GetString(key), out record);

            public void Write(byte[] key, StoredRecord record) => store._data[Encoding.UTF8.GetString(key)] = record;

            public void Delete(byte[] key) => store._data.Remove(Encoding.UTF8.GetString(key));
        }
    }
}
