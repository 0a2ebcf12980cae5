using System.Collections.Concurrent;

namespace Dynamite.Protocols.Resp;

/// <summary>
/// The connected clients: admission against maxclients, ids, CLIENT LIST, and the totals of clients that
/// have gone (so INFO's counters survive disconnects without a shared counter on the request path).
/// </summary>
public sealed class ClientRegistry
{
    private readonly ConcurrentDictionary<long, ClientSession> _clients = new();
    private long _nextId;
    private int _count;
    private long _totalConnections;
    private long _rejectedConnections;
    private long _retiredCommands;
    private long _retiredHits;
    private long _retiredMisses;

    public int Count => Volatile.Read(ref _count);

    public long TotalConnections => Interlocked.Read(ref _totalConnections);

    public long RejectedConnections => Interlocked.Read(ref _rejectedConnections);

    public long NextId() => Interlocked.Increment(ref _nextId);

    /// <summary>Admits <paramref name="session"/> unless <paramref name="maxClients"/> are connected already.</summary>
    public bool TryRegister(ClientSession session, int maxClients)
    {
        Interlocked.Increment(ref _totalConnections);
        if (Interlocked.Increment(ref _count) > maxClients)
        {
            Interlocked.Decrement(ref _count);
            Interlocked.Increment(ref _rejectedConnections);
            return false;
        }

        _clients[session.Id] = session;
        return true;
    }

    public void Unregister(ClientSession session)
    {
        if (_clients.TryRemove(session.Id, out _))
        {
            Interlocked.Decrement(ref _count);
            Interlocked.Add(ref _retiredCommands, session.CommandsProcessed);
            Interlocked.Add(ref _retiredHits, session.KeyspaceHits);
            Interlocked.Add(ref _retiredMisses, session.KeyspaceMisses);
        }
    }

    public bool TryGet(long id, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out ClientSession session) => _clients.TryGetValue(id, out session);

    public IReadOnlyList<ClientSession> Snapshot() => [.. _clients.Values.OrderBy(s => s.Id)];

    public long TotalCommands => Interlocked.Read(ref _retiredCommands) + _clients.Values.Sum(s => s.CommandsProcessed);

    public long KeyspaceHits => Interlocked.Read(ref _retiredHits) + _clients.Values.Sum(s => s.KeyspaceHits);

    public long KeyspaceMisses => Interlocked.Read(ref _retiredMisses) + _clients.Values.Sum(s => s.KeyspaceMisses);

    /// <summary>Closes every client idle for longer than <paramref name="timeoutMs"/>; returns how many.</summary>
    public int CloseIdle(long nowUnixMs, long timeoutMs)
    {
        int closed = 0;
        foreach (ClientSession session in _clients.Values)
        {
            if (nowUnixMs - session.LastInteractionUnixMs > timeoutMs)
            {
                session.Abort();
                closed++;
            }
        }

        return closed;
    }
}
