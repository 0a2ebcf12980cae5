namespace Dynamite.Protocols.Resp.Memory;

/// <summary>
/// redis-server's <c>maxmemory</c>, <c>maxmemory-policy</c> and <c>maxmemory-samples</c>, and the memory they are
/// measured against: the node's managed heap in use (what INFO reports as <c>used_memory</c>), less what eviction has
/// freed that the collector has not yet given back. A deleted key's memory returns only at a later collection, so
/// without that credit a node would go on evicting for memory it has already freed; the credit ends once the heap
/// itself is back under the limit. The lru and lfu policies choose by the uses <see cref="Access"/> records. On a durable engine the data lives on disk, so evicting a key frees only what the
/// node holds of it in memory (README, "Memory limit and eviction").
/// </summary>
public sealed class MemoryLimit
{
    /// <summary>Redis's default sample size.</summary>
    public const int DefaultSamples = 5;

    private long _maxBytes;
    private int _policy;
    private int _samples = DefaultSamples;
    private long _freedNotCollected;
    private long _evictedKeys;

    /// <summary>The limit in bytes; 0: none (Redis's default).</summary>
    public long MaxBytes
    {
        get => Volatile.Read(ref _maxBytes);
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            Volatile.Write(ref _maxBytes, value);
            Interlocked.Exchange(ref _freedNotCollected, 0);
        }
    }

    public EvictionPolicy Policy
    {
        get => (EvictionPolicy)Volatile.Read(ref _policy);
        init => _policy = (int)value;
    }

    /// <summary>Whether the policy chooses by use (<see cref="Access"/> is kept): the lru and lfu ones.</summary>
    public bool TracksAccess => Policy is EvictionPolicy.AllKeysLru or EvictionPolicy.VolatileLru or EvictionPolicy.AllKeysLfu or EvictionPolicy.VolatileLfu;

    /// <summary>When keys were last used and how often, while <see cref="TracksAccess"/>.</summary>
    public KeyAccessClock Access { get; } = new();

    /// <summary>Selects <paramref name="policy"/>; the access clock starts afresh when the policy changes.</summary>
    public void SetPolicy(EvictionPolicy policy, long nowUnixMs)
    {
        if (Interlocked.Exchange(ref _policy, (int)policy) != (int)policy)
        {
            Access.Clear(nowUnixMs);
        }
    }

    /// <summary>Keys sampled to choose each one evicted.</summary>
    public int Samples
    {
        get => Volatile.Read(ref _samples);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            Volatile.Write(ref _samples, value);
        }
    }

    /// <summary>Taken by the one eviction that runs at a time (<see cref="KeyEvictor"/>).</summary>
    internal SemaphoreSlim EvictionTurn { get; } = new(1, 1);

    /// <summary>Keys evicted since the node started (INFO <c>evicted_keys</c>).</summary>
    public long EvictedKeys => Interlocked.Read(ref _evictedKeys);

    public bool Enabled => MaxBytes > 0;

    /// <summary>The memory measured against the limit (INFO <c>used_memory</c>).</summary>
    public long UsedBytes
    {
        get
        {
            long heap = GC.GetTotalMemory(forceFullCollection: false);
            long max = MaxBytes;
            if (max == 0 || heap <= max)
            {
                // The collector has given back at least what eviction freed: the heap speaks for itself again.
                Interlocked.Exchange(ref _freedNotCollected, 0);
                return heap;
            }

            return Math.Max(0, heap - Interlocked.Read(ref _freedNotCollected));
        }
    }

    /// <summary>Whether the node is over its limit (always false without one).</summary>
    public bool IsOver
    {
        get
        {
            long max = MaxBytes;
            return max > 0 && UsedBytes > max;
        }
    }

    /// <summary>Notes a key evicted and the memory its removal frees (an estimate), until a collection returns it.</summary>
    public void RecordEviction(long freedBytes)
    {
        Interlocked.Increment(ref _evictedKeys);
        Interlocked.Add(ref _freedNotCollected, freedBytes);
    }
}
