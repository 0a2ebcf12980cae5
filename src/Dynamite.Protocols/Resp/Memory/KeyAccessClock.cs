using System.Collections.Concurrent;
using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp.Memory;

/// <summary>
/// When each key was last used and how often, kept while an <c>lru</c> or <c>lfu</c> eviction policy is selected, for the
/// eviction to choose by (and OBJECT IDLETIME and FREQ to answer). redis-server keeps both in every key's header; Dynamite's
/// keys live in a storage engine, so they are kept beside it, in memory, and only while a policy needs them: a command
/// that names keys records them before it runs. Frequency is Redis's logarithmic 8-bit counter (a new key starts at 5, each
/// use raises it with a probability that falls as it grows, each idle minute lowers it by one). A key forgotten (never
/// used since the policy was chosen, or its entry swept) counts as idle since then with no use.
/// Entries of keys deleted by other means stay until a sweep: when the entries outnumber twice the stored keys, the
/// clock is cleared of every key the store no longer has.
/// </summary>
public sealed class KeyAccessClock
{
    /// <summary>Redis's LFU_INIT_VAL: a new key's counter, so it is not the first evicted.</summary>
    private const byte InitialFrequency = 5;

    /// <summary>Redis's default lfu-log-factor.</summary>
    private const int LogFactor = 10;

    /// <summary>Entries kept at least before a sweep is considered.</summary>
    private const int SweepFloor = 10_000;

    private readonly ConcurrentDictionary<byte[], Stamp> _stamps = new(ByteArrayComparer.Instance);
    private int _sweeping;

    /// <summary>When the clock started (or was cleared): a key without an entry has been idle since then.</summary>
    public long StartedUnixMs { get; private set; }

    public int Count => _stamps.Count;

    /// <summary>Forgets everything (a policy that needs no clock was chosen, or the keyspace was flushed).</summary>
    public void Clear(long nowUnixMs)
    {
        _stamps.Clear();
        StartedUnixMs = nowUnixMs;
    }

    /// <summary>Records a use of <paramref name="key"/> (an array nobody mutates: the clock keeps it).</summary>
    public void Touch(byte[] key, long nowUnixMs)
    {
        byte frequency = _stamps.TryGetValue(key, out Stamp stamp)
            ? Increment(Decayed(stamp, nowUnixMs))
            : InitialFrequency;
        _stamps[key] = new Stamp(nowUnixMs, frequency);
    }

    public void Forget(byte[] key) => _stamps.TryRemove(key, out _);

    /// <summary>When <paramref name="key"/> was last used (the clock's start when it has no entry).</summary>
    public long LastUsedUnixMs(byte[] key) => _stamps.TryGetValue(key, out Stamp stamp) ? stamp.LastUsedUnixMs : StartedUnixMs;

    /// <summary>The key's frequency counter as of <paramref name="nowUnixMs"/> (0 when it has no entry).</summary>
    public int Frequency(byte[] key, long nowUnixMs) => _stamps.TryGetValue(key, out Stamp stamp) ? Decayed(stamp, nowUnixMs) : 0;

    /// <summary>
    /// Removes the entries of keys <paramref name="store"/> no longer holds, once they outnumber twice its keys (and
    /// <see cref="SweepFloor"/>); one sweep at a time.
    /// </summary>
    public async ValueTask SweepIfOvergrownAsync(IKeyValueStore store, CancellationToken cancellationToken)
    {
        if (!IsOvergrown(store.KeyCount) || Interlocked.Exchange(ref _sweeping, 1) == 1)
        {
            return;
        }

        try
        {
            foreach (byte[] key in _stamps.Keys)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!(await store.ReadAsync(key, cancellationToken: cancellationToken)).Found)
                {
                    _stamps.TryRemove(key, out _);
                }
            }
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // A store that cannot be read now (shutting down, failing): the next overgrowth sweeps again.
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }

    /// <summary>Whether a sweep is due: entries outnumber twice <paramref name="storedKeys"/> (and the floor) and none runs.</summary>
    public bool IsOvergrown(long storedKeys) =>
        _stamps.Count > Math.Max(SweepFloor, 2 * storedKeys) && Volatile.Read(ref _sweeping) == 0;

    /// <summary>Redis's LFUDecrAndReturn: one less per idle minute (lfu-decay-time 1).</summary>
    private static byte Decayed(Stamp stamp, long nowUnixMs)
    {
        long idleMinutes = Math.Max(0, nowUnixMs - stamp.LastUsedUnixMs) / 60_000;
        return (byte)Math.Max(0, stamp.Frequency - Math.Min(idleMinutes, byte.MaxValue));
    }

    /// <summary>Redis's LFULogIncr: the higher the counter, the less likely a use raises it.</summary>
    private static byte Increment(byte counter)
    {
        if (counter == byte.MaxValue)
        {
            return counter;
        }

        double baseValue = Math.Max(0, counter - InitialFrequency);
        double probability = 1.0 / ((baseValue * LogFactor) + 1);
        return Random.Shared.NextDouble() < probability ? (byte)(counter + 1) : counter;
    }

    private readonly record struct Stamp(long LastUsedUnixMs, byte Frequency);
}
