namespace Dynamite.Cluster.Expiry;

/// <summary>What the expiry sweep tells about the keys it removed (keyspace notifications of <c>expired</c> events).</summary>
public interface IExpiredKeysListener
{
    /// <summary>Whether the sweep should collect the keys it removes now: read before every sweep, so it costs nothing while off.</summary>
    bool Listening { get; }

    /// <summary>Keys one sweep batch removed, in the order it removed them; called on the sweep's thread, so it must not block.</summary>
    void Expired(IReadOnlyList<byte[]> keys);
}
