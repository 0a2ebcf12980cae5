using System.Diagnostics.CodeAnalysis;
using System.Text;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Quorum;

namespace Dynamite.Protocols.Tests.Infrastructure;

/// <summary>
/// A dictionary store whose every operation first waits for a gate chosen by its start order, then runs.
/// Records how many operations were in flight at once, whether two on one key overlapped, and the order
/// in which operations started and ended.
/// </summary>
internal sealed class GatedStore(Func<int, Task> gate) : IKeyValueStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, StoredRecord> _data = [];
    private readonly Dictionary<string, int> _busyKeys = [];
    private readonly List<string> _events = [];
    private int _inFlight;

    public int Started { get; private set; }

    /// <summary>Keys whose writes this store hands to another node (as a cluster node that is not a primary does); null: none.</summary>
    public Func<string, bool>? ForwardsWritesOfKey { get; init; }

    /// <summary>The commands handed on, each answered <c>:42</c>.</summary>
    public List<string[]> Forwarded { get; } = [];

    /// <summary>The consistency each command in <see cref="Forwarded"/> was handed on at ("default" for none).</summary>
    public List<string> ForwardedConsistency { get; } = [];

    public bool ForwardsWritesOf(ReadOnlySpan<byte> key) => ForwardsWritesOfKey?.Invoke(Encoding.UTF8.GetString(key)) ?? false;

    public ValueTask<byte[]> ForwardCommandAsync(byte[] key, IReadOnlyList<byte[]> arguments, int protocolVersion, ConsistencyLevel? consistency, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            Forwarded.Add([.. arguments.Select(a => Encoding.UTF8.GetString(a))]);
            ForwardedConsistency.Add(consistency?.Name ?? "default");
        }

        return ValueTask.FromResult(":42\r\n"u8.ToArray());
    }

    public int MaxInFlight { get; private set; }

    public bool OverlappedOnOneKey { get; private set; }

    public long NowUnixMs => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public long KeyCount => _data.Count;

    public long ChangeCount => 0;

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

        // Key records only, as a cluster's read-modify-write carries them: the commands these tests run are string commands.
        public bool TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value) => throw RecordsOnly();

        public ElementPage ScanElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit) => throw RecordsOnly();

        public void WriteElement(byte[] key, byte[] element, byte[] value) => throw RecordsOnly();

        public void DeleteElement(byte[] key, byte[] element) => throw RecordsOnly();

        public void DeleteAllElements(byte[] key) => throw RecordsOnly();

        private static NotSupportedException RecordsOnly() => new("The gated store holds key records only.");
    }
}
