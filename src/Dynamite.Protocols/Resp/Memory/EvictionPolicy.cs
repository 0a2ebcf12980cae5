namespace Dynamite.Protocols.Resp.Memory;

/// <summary>
/// redis-server's <c>maxmemory-policy</c>: what a node does when a command finds it over <c>maxmemory</c>. Every name
/// Redis accepts is accepted; the <c>lru</c> and <c>lfu</c> ones choose by the uses <see cref="KeyAccessClock"/> records
/// while one of them is selected (README, "Memory limit and eviction").
/// </summary>
public enum EvictionPolicy
{
    /// <summary>Evict nothing: commands that may add memory are refused with OOM.</summary>
    NoEviction,
    AllKeysLru,
    VolatileLru,
    AllKeysLfu,
    VolatileLfu,
    AllKeysRandom,
    VolatileRandom,

    /// <summary>Among sampled keys with a time to live, the one that expires first.</summary>
    VolatileTtl,
}

/// <summary>The policies' names as CONFIG and the configuration file spell them.</summary>
public static class EvictionPolicies
{
    private static readonly (string Name, EvictionPolicy Policy)[] Names =
    [
        ("noeviction", EvictionPolicy.NoEviction),
        ("allkeys-lru", EvictionPolicy.AllKeysLru),
        ("volatile-lru", EvictionPolicy.VolatileLru),
        ("allkeys-lfu", EvictionPolicy.AllKeysLfu),
        ("volatile-lfu", EvictionPolicy.VolatileLfu),
        ("allkeys-random", EvictionPolicy.AllKeysRandom),
        ("volatile-random", EvictionPolicy.VolatileRandom),
        ("volatile-ttl", EvictionPolicy.VolatileTtl),
    ];

    /// <summary>Every name, in Redis's order, for help and errors.</summary>
    public static IEnumerable<string> All => Names.Select(n => n.Name);

    public static bool TryParse(string name, out EvictionPolicy policy)
    {
        foreach ((string known, EvictionPolicy value) in Names)
        {
            if (string.Equals(known, name, StringComparison.OrdinalIgnoreCase))
            {
                policy = value;
                return true;
            }
        }

        policy = EvictionPolicy.NoEviction;
        return false;
    }

    public static string NameOf(EvictionPolicy policy) => Names.First(n => n.Policy == policy).Name;

    /// <summary>Whether the policy only evicts keys with a time to live.</summary>
    public static bool VolatileOnly(EvictionPolicy policy) =>
        policy is EvictionPolicy.VolatileLru or EvictionPolicy.VolatileLfu or EvictionPolicy.VolatileRandom or EvictionPolicy.VolatileTtl;
}
