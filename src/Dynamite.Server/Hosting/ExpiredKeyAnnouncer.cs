using Dynamite.Cluster.Expiry;
using Dynamite.Protocols.Resp.PubSub;

namespace Dynamite.Server.Hosting;

/// <summary>
/// Announces the keys the expiry sweep removes as keyspace notifications (<c>expired</c>, class <c>x</c>), as
/// redis-server does when it expires a key. On a cluster every replica sweeps its own copy, so only the key's first
/// reachable primary announces it (<paramref name="announces"/>), and that message reaches subscribers on every node
/// like any publish.
/// </summary>
internal sealed class ExpiredKeyAnnouncer(KeyspaceNotifier notifier, Func<byte[], bool> announces) : IExpiredKeysListener
{
    public bool Listening => notifier.Wants(KeyspaceEventClasses.Expired);

    public void Expired(IReadOnlyList<byte[]> keys)
    {
        foreach (byte[] key in keys)
        {
            if (announces(key))
            {
                notifier.Notify(KeyspaceEventClasses.Expired, "expired", key);
            }
        }
    }
}
