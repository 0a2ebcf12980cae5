using Dynamite.Cluster.Expiry;
using Dynamite.Protocols.Resp.PubSub;

namespace Dynamite.Server.Hosting;

/// <summary>
/// Announces the keys the expiry sweep removes as keyspace notifications (<c>expired</c>, class <c>x</c>), as
/// redis-server does when it expires a key. On a cluster every replica sweeps its own copy and announces it to its own
/// subscribers only, with its own <c>notify-keyspace-events</c> (as each Redis Cluster node announces what happens to the
/// keys it holds): a subscriber hears each expiry once, from the node it is connected to, when that node holds the key.
/// Clients that track keys (CLIENT TRACKING) are told an expired key changed, as redis-server tells them.
/// </summary>
internal sealed class ExpiredKeyAnnouncer(KeyspaceNotifier notifier, Protocols.Resp.Tracking.KeyTracker tracker) : IExpiredKeysListener
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
            notifier.Notify(KeyspaceEventClasses.Expired, "expired", key, relay: false);
        }
    }
}
