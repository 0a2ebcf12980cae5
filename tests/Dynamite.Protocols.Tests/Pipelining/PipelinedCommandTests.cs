using System.Diagnostics.Metrics;
using System.Text;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Quorum;
using Dynamite.Protocols.Resp;
using Dynamite.Protocols.Tests.Infrastructure;
using Xunit;

namespace Dynamite.Protocols.Tests.Pipelining;

/// <summary>
/// Pipelined commands of one connection over a store whose operations wait (as a cluster's quorum does):
/// distinct keys run at once, replies keep request order, a shared key or a barrier serialises.
/// </summary>
[Collection(ProcessMeasurementCollection.Name)]
public sealed class PipelinedCommandTests
{
    private static readonly TimeSpan Timeout = RespText.Timeout;

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
        await using var connection = RespTestConnection.Start(store);

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
        await using var connection = RespTestConnection.Start(store);

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
        await using var connection = RespTestConnection.Start(store);

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
        await using var connection = RespTestConnection.Start(store);
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
        await using var connection = RespTestConnection.Start(new InlineStore(), measured ? new RespMetrics(meter) : null);
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

    private static string Command(params string[] arguments) => RespText.Command(arguments);

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        DateTime deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            await Task.Delay(5);
        }
    }

    /// <summary>A store where every key is missing and every call completes at once, like a single node.</summary>
    private sealed class InlineStore : IKeyValueStore
    {
        public long NowUnixMs => 0;

        public long KeyCount => 0;

        public long ChangeCount => 0;

        public long KeysWithExpiryCount => 0;

        public ValueTask<Dynamite.Core.KeyValue.ReadResult> ReadAsync(ReadOnlyMemory<byte> key, ConsistencyLevel? consistency = null, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Dynamite.Core.KeyValue.ReadResult.NotFound);

        public ValueTask ExecuteAsync(IStorageOperation operation, ConsistencyLevel? consistency = null, CancellationToken cancellationToken = default) =>
            ValueTask.CompletedTask;

        public ScanPage Scan(ulong fromHash, int limit) => new([], null);

        public ValueTask ClearAsync(CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
    }
}
