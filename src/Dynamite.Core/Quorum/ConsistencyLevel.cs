namespace Dynamite.Core.Quorum;

/// <summary>
/// How many replicas a request waits for: R for reads and W for writes in the local datacenter, and whether
/// the R replies must agree. Netflix Dynomite's names are aliases: DC_ONE (R=W=1), DC_QUORUM (a majority of N),
/// DC_SAFE_QUORUM (a majority whose replies must be equal, else the read fails). A quorum size of 0 means
/// the cluster default, -1 a majority of N; <see cref="Resolve"/> turns them into numbers for a given N.
/// </summary>
public sealed record ConsistencyLevel(string Name, int ReadQuorum, int WriteQuorum, bool RequireAgreement)
{
    private const int ClusterDefault = 0;
    private const int Majority = -1;

    public static ConsistencyLevel Default { get; } = new("DEFAULT", ClusterDefault, ClusterDefault, false);

    public static ConsistencyLevel DcOne { get; } = new("DC_ONE", 1, 1, false);

    public static ConsistencyLevel DcQuorum { get; } = new("DC_QUORUM", Majority, Majority, false);

    public static ConsistencyLevel DcSafeQuorum { get; } = new("DC_SAFE_QUORUM", Majority, Majority, true);

    /// <summary>Explicit numbers: R and W, each at least 1 (checked against N when the request runs).</summary>
    public static ConsistencyLevel Explicit(int readQuorum, int writeQuorum)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(readQuorum, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(writeQuorum, 1);
        return new ConsistencyLevel($"R={readQuorum} W={writeQuorum}", readQuorum, writeQuorum, false);
    }

    /// <summary>A named level, case-insensitively: DEFAULT, DC_ONE, DC_QUORUM or DC_SAFE_QUORUM.</summary>
    public static bool TryParseName(string name, out ConsistencyLevel level)
    {
        level = name.ToUpperInvariant() switch
        {
            "DEFAULT" => Default,
            "DC_ONE" => DcOne,
            "DC_QUORUM" => DcQuorum,
            "DC_SAFE_QUORUM" => DcSafeQuorum,
            _ => null!,
        };
        return level is not null;
    }

    /// <summary>
    /// R and W for replication factor <paramref name="n"/>: explicit numbers are capped at N (a smaller
    /// cluster than N, such as a single node, cannot wait for more replicas than it has).
    /// </summary>
    public (int R, int W) Resolve(int n, int defaultReadQuorum, int defaultWriteQuorum)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        return (Size(ReadQuorum, n, defaultReadQuorum), Size(WriteQuorum, n, defaultWriteQuorum));
    }

    private static int Size(int requested, int n, int clusterDefault) => requested switch
    {
        ClusterDefault => Math.Clamp(clusterDefault, 1, n),
        Majority => (n / 2) + 1,
        _ => Math.Min(requested, n),
    };

    public override string ToString() => Name;
}
