using Dynamite.Cluster.Expiry;
using Dynamite.Protocols.Resp.PubSub;

namespace Dynamite.Server.Hosting;

/// <summary>
/// Announces the keys the expiry sweep removes as keyspace notifications (<c>expired</c>, class <c>x</c>), as
/// redis-server does when it expires a key. On a cluster every replica sweeps its own copy, so only the key's first
/// reachable primary announces it (<paramref name="announces"/>), and that message reaches subscribers on every node
/// like any publish. Clients that track keys (CLIENT TRACKING) are told an expired key changed, as redis-server tells them.
/// </summary>
internal sealed class ExpiredKeyAnnouncer(KeyspaceNotifier notifier, Protocols.Resp.Tracking.KeyTracker tracker, Func<byte[], bool> announces) : IExpiredKeysListener
{
    public bool Listening => notifier.Wants(KeyspaceEventClasses.Expired) || tracker.Active;

    public void Expired(IReadOnlyList<byte[]> keys)
    {
        if (tracker.Active)
        {
            tracker.Invalidate(keys, writer: null);
        }

        if (!notifier.Wants(KeyspaceEventClasses.Expired))
        {
            return;
        }

        foreach (byte[] key in keys)
        {
            if (announces(key))
            {
                notifier.Notify(KeyspaceEventClasses.Expired, "expired", key);
            }
        }
    }
}
