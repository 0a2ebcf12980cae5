using Dynamite.Core.KeyValue;
using Dynamite.Protocols.Resp.PubSub;

namespace Dynamite.Protocols.Resp.Tracking;

/// <summary>
/// Server-assisted client-side caching (CLIENT TRACKING), as redis-server 6+ has it. In the default mode the node
/// remembers which clients read which keys (the tracking table) and, when a key changes, tells each of them once and
/// forgets the key; in BCAST mode a client is told about every changed key under its prefixes. A read is remembered
/// before the command reads, so a write that lands after the read is always announced. The table holds at most
/// <see cref="MaxKeys"/> keys (0: no limit, as in redis-server): past that, the oldest keys are announced as changed and
/// forgotten (redis-server's tracking-table-max-keys), so no client keeps a value it would never hear about.
/// </summary>
public sealed class KeyTracker(ClientRegistry clients, PubSubHub hub, Func<long> nowUnixMs)
{
    /// <summary>redis-server's default tracking-table-max-keys.</summary>
    public const int DefaultMaxKeys = 1_000_000;

    private int _maxKeys = DefaultMaxKeys;

    private static readonly byte[] InvalidationChannel = System.Text.Encoding.ASCII.GetBytes(InvalidationFrames.Channel);
    private readonly Lock _lock = new();

    /// <summary>Key to the ids of the clients that read it since it last changed; insertion order is eviction order.</summary>
    private readonly Dictionary<byte[], HashSet<long>> _readers = new(ByteArrayComparer.Instance);
    private readonly Queue<byte[]> _order = new();

    /// <summary>Clients in BCAST mode; copy-on-write.</summary>
    private volatile ClientSession[] _broadcast = [];

    /// <summary>
    /// Keys in the table, written under the lock after each change and read without it: a write that finds 0 skips the
    /// lock (a read remembered after that finds the write's value, since it is remembered before it reads).
    /// </summary>
    private int _readerCount;

    /// <summary>Clients with tracking on; while 0, the command path skips every tracking step with one read.</summary>
    private int _tracking;

    /// <summary>True while any client tracks: one volatile read on the command path.</summary>
    public bool Active => Volatile.Read(ref _tracking) > 0;

    /// <summary>tracking-table-max-keys (CONFIG SET): lowering it announces and forgets the oldest keys at once.</summary>
    public int MaxKeys
    {
        get => Volatile.Read(ref _maxKeys);
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            Volatile.Write(ref _maxKeys, value);
            List<byte[]>? evicted;
            lock (_lock)
            {
                evicted = EvictOverLimit();
            }

            if (evicted is not null)
            {
                Invalidate(evicted, writer: null);
            }
        }
    }

    /// <summary>Clients with tracking on (INFO's tracking_clients).</summary>
    public int ClientCount => Volatile.Read(ref _tracking);

    /// <summary>Client-key pairs remembered now (INFO's tracking_total_items).</summary>
    public long ItemCount
    {
        get
        {
            lock (_lock)
            {
                return _readers.Values.Sum(readers => (long)readers.Count);
            }
        }
    }

    /// <summary>Distinct BCAST prefixes, the empty one included (INFO's tracking_total_prefixes).</summary>
    public int PrefixCount =>
        _broadcast.SelectMany(c => c.Tracking is { } t ? (t.Prefixes.Count == 0 ? [[]] : t.Prefixes) : []).Distinct(ByteArrayComparer.Instance).Count();

    /// <summary>Keys remembered now (INFO's tracking_total_keys).</summary>
    public int KeyCount
    {
        get
        {
            lock (_lock)
            {
                return _readers.Count;
            }
        }
    }

    /// <summary>Turns tracking on or changes its settings (the caller checked them); <paramref name="settings"/> null turns it off.</summary>
    public void Set(ClientSession client, TrackingSettings? settings)
    {
        ArgumentNullException.ThrowIfNull(client);
        lock (_lock)
        {
            TrackingSettings? before = client.Tracking;
            client.Tracking = settings;
            if ((before is null) != (settings is null))
            {
                _tracking += settings is null ? -1 : 1;
                if (_tracking == 0)
                {
                    // Nobody tracks: the readers left in the table would only be told about keys they no longer cache.
                    _readers.Clear();
                    _order.Clear();
                    Volatile.Write(ref _readerCount, 0);
                }
            }

            bool wasBroadcast = before?.Broadcast == true;
            bool isBroadcast = settings?.Broadcast == true;
            if (wasBroadcast != isBroadcast)
            {
                _broadcast = isBroadcast ? [.. _broadcast, client] : [.. _broadcast.Where(c => c != client)];
            }
        }

        if (settings is not null)
        {
            // Its own invalidations, or the notice that its redirect target left, arrive here.
            client.EnsureOutbox();
        }
    }

    /// <summary>Remembers that <paramref name="client"/> reads <paramref name="keys"/> (called before the read runs).</summary>
    public void RecordReads(ClientSession client, IEnumerable<byte[]> keys)
    {
        List<byte[]>? evicted = null;
        lock (_lock)
        {
            foreach (byte[] key in keys)
            {
                if (!_readers.TryGetValue(key, out HashSet<long>? readers))
                {
                    readers = [];
                    _readers[key] = readers;
                    _order.Enqueue(key);
                }

                readers.Add(client.Id);
            }

            Volatile.Write(ref _readerCount, _readers.Count);
            if (_order.Count > (2 * _readers.Count) + 1024)
            {
                // Announced keys stay in the eviction order until dequeued: drop them, and repeats, keeping each key's
                // first (oldest) place, so the order stays within twice the table.
                var seen = new HashSet<byte[]>(ByteArrayComparer.Instance);
                byte[][] live = [.. _order.Where(k => _readers.ContainsKey(k) && seen.Add(k))];
                _order.Clear();
                foreach (byte[] key in live)
                {
                    _order.Enqueue(key);
                }
            }

            evicted = EvictOverLimit();
        }

        if (evicted is not null)
        {
            Invalidate(evicted, writer: null);
        }
    }

    /// <summary>The oldest keys past the limit, removed from the order (the caller announces them, which removes them); under the lock.</summary>
    private List<byte[]>? EvictOverLimit()
    {
        List<byte[]>? evicted = null;
        int limit = MaxKeys;
        int remaining = _readers.Count;
        while (limit > 0 && remaining > limit && _order.TryDequeue(out byte[]? oldest))
        {
            if (_readers.ContainsKey(oldest))
            {
                (evicted ??= []).Add(oldest);
                remaining--;
            }
        }

        return evicted;
    }

    /// <summary>
    /// Announces that <paramref name="keys"/> changed, by <paramref name="writer"/> (null: the node itself, an expiry or
    /// an eviction): each client that read one of them, and each BCAST client with a matching prefix, is told once.
    /// </summary>
    public void Invalidate(IReadOnlyList<byte[]> keys, ClientSession? writer)
    {
        if (keys.Count == 0)
        {
            return;
        }

        if (_broadcast.Length == 0 && Volatile.Read(ref _readerCount) == 0)
        {
            // Nobody to tell: every write of every client comes here while anyone tracks.
            return;
        }

        if (keys.Count > 1)
        {
            // A transaction that changed a key twice announces it once.
            keys = [.. keys.Distinct(ByteArrayComparer.Instance)];
        }

        var perClient = new Dictionary<long, List<byte[]>>();
        lock (_lock)
        {
            foreach (byte[] key in keys)
            {
                if (_readers.Remove(key, out HashSet<long>? readers))
                {
                    foreach (long reader in readers)
                    {
                        Add(perClient, reader, key);
                    }
                }
            }

            if (_readers.Count == 0)
            {
                _order.Clear();
            }

            Volatile.Write(ref _readerCount, _readers.Count);
        }

        // The table's readers, in the default mode: one message per key, as redis-server sends them. A reader that has
        // turned tracking off, or on again in BCAST mode, since it read is left out (BCAST is told below).
        foreach ((long id, List<byte[]> changed) in perClient)
        {
            if (clients.TryGet(id, out ClientSession? client) && client.Tracking is { Broadcast: false } settings && !(settings.NoLoop && ReferenceEquals(client, writer)))
            {
                foreach (byte[] key in changed)
                {
                    Deliver(client, settings, [key]);
                }
            }
        }

        // BCAST: one message per prefix with the changed keys under it (every key when it has no prefix).
        foreach (ClientSession listener in _broadcast)
        {
            if (listener.Tracking is not { Broadcast: true } settings || (settings.NoLoop && ReferenceEquals(listener, writer)))
            {
                continue;
            }

            if (settings.Prefixes.Count == 0)
            {
                Deliver(listener, settings, [.. keys]);
                continue;
            }

            foreach (byte[] prefix in settings.Prefixes)
            {
                List<byte[]> under = [.. keys.Where(key => key.AsSpan().StartsWith(prefix))];
                if (under.Count > 0)
                {
                    Deliver(listener, settings, under);
                }
            }
        }
    }

    /// <summary>FLUSHALL/FLUSHDB: every tracking client is told that everything changed, and the table is emptied.</summary>
    public void InvalidateAll()
    {
        lock (_lock)
        {
            _readers.Clear();
            _order.Clear();
            Volatile.Write(ref _readerCount, 0);
        }

        foreach (ClientSession client in clients.Snapshot())
        {
            if (client.Tracking is { } settings)
            {
                Deliver(client, settings, keys: null);
            }
        }
    }

    /// <summary>A client leaving: off, and out of BCAST (its ids in the table go when their keys change).</summary>
    public void Remove(ClientSession client)
    {
        if (client.Tracking is not null)
        {
            Set(client, null);
        }
    }

    private void Deliver(ClientSession client, TrackingSettings settings, List<byte[]>? keys)
    {
        long now = nowUnixMs();
        // Bounded as a subscriber's output is: a client that stops reading its invalidations is disconnected at the limit.
        OutputBufferLimit limit = hub.Limit;
        if (settings.RedirectId == 0)
        {
            // Only RESP3 can carry a push beside replies; a RESP2 client hears of changes only while it is subscribed to
            // the invalidation channel itself (redis-server's behaviour).
            if (client.ProtocolVersion >= 3)
            {
                client.EnsureOutbox().TryPush(InvalidationFrames.For(resp3: true, keys), limit, now);
            }
            else if (hub.IsSubscribed(client, InvalidationChannel))
            {
                client.Outbox?.TryPush(InvalidationFrames.For(resp3: false, keys), limit, now);
            }

            return;
        }

        if (!clients.TryGet(settings.RedirectId, out ClientSession? target))
        {
            if (client.ProtocolVersion >= 3)
            {
                client.EnsureOutbox().TryPush(InvalidationFrames.RedirectBroken(settings.RedirectId), limit, now);
            }

            return;
        }

        if (target.ProtocolVersion >= 3)
        {
            target.EnsureOutbox().TryPush(InvalidationFrames.For(resp3: true, keys), limit, now);
        }
        else if (hub.IsSubscribed(target, InvalidationChannel))
        {
            target.Outbox?.TryPush(InvalidationFrames.For(resp3: false, keys), limit, now);
        }
    }

    private static void Add(Dictionary<long, List<byte[]>> perClient, long id, byte[] key)
    {
        if (!perClient.TryGetValue(id, out List<byte[]>? list))
        {
            list = [];
            perClient[id] = list;
        }

        list.Add(key);
    }
}
