namespace Dynamite.Protocols.Resp.Acl;

/// <summary>
/// <c>ACL LOG</c>: the most recent refusals (a command, key or channel the user may not use, a failed AUTH), newest
/// first, bounded. A refusal like one logged less than a minute ago (same reason, context, object and user) counts on
/// that entry instead of adding one, as in redis-server, so a client retrying in a loop cannot flush the log.
/// </summary>
internal sealed class AclLog
{
    /// <summary>redis-server's acllog-max-len default.</summary>
    public const int DefaultMaxEntries = 128;

    private const long GroupingWindowMs = 60_000;

    private readonly LinkedList<AclLogEntry> _entries = new();
    private readonly Lock _lock = new();
    private int _maxEntries = DefaultMaxEntries;

    public int MaxEntries
    {
        get => Volatile.Read(ref _maxEntries);
        set
        {
            lock (_lock)
            {
                _maxEntries = value;
                Trim();
            }
        }
    }

    public void Add(string reason, string context, string obj, string username, string clientInfo, long nowUnixMs)
    {
        lock (_lock)
        {
            for (LinkedListNode<AclLogEntry>? node = _entries.First; node is not null; node = node.Next)
            {
                AclLogEntry entry = node.Value;
                if (entry.Reason == reason && entry.Context == context && entry.Object == obj && entry.Username == username
                    && nowUnixMs - entry.LastUnixMs < GroupingWindowMs)
                {
                    _entries.Remove(node);
                    _entries.AddFirst(entry with { Count = entry.Count + 1, LastUnixMs = nowUnixMs, ClientInfo = clientInfo });
                    return;
                }
            }

            _entries.AddFirst(new AclLogEntry(1, reason, context, obj, username, nowUnixMs, nowUnixMs, clientInfo));
            Trim();
        }
    }

    public IReadOnlyList<AclLogEntry> Newest(int count)
    {
        lock (_lock)
        {
            return [.. _entries.Take(count)];
        }
    }

    public void Reset()
    {
        lock (_lock)
        {
            _entries.Clear();
        }
    }

    private void Trim()
    {
        while (_entries.Count > _maxEntries)
        {
            _entries.RemoveLast();
        }
    }
}

/// <summary>One <see cref="AclLog"/> entry.</summary>
internal sealed record AclLogEntry(long Count, string Reason, string Context, string Object, string Username, long CreatedUnixMs, long LastUnixMs, string ClientInfo);
