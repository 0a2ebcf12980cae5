using System.Globalization;
using System.Net;

namespace Dynamite.Cli.Bench;

/// <summary>One target node of the load generator.</summary>
internal sealed record BenchTarget(string Host, int Port)
{
    public override string ToString() => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    /// <summary>Parses <c>HOST:PORT</c> (or <c>[v6]:PORT</c>).</summary>
    /// <exception cref="BenchException">The text is not HOST:PORT.</exception>
    public static BenchTarget Parse(string text)
    {
        text = text.Trim();
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1
            || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port)
            || port is < 1 or > IPEndPoint.MaxPort)
        {
            throw new BenchException($"target '{text}' is not HOST:PORT");
        }

        string host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }

        return new BenchTarget(host, port);
    }
}

/// <summary>What one `dynamite bench` run does.</summary>
/// <param name="Targets">Nodes; connection i goes to target i mod count.</param>
/// <param name="Connections">Concurrent connections, each its own loop.</param>
/// <param name="Pipeline">Requests per connection in flight at once (sent in one write).</param>
/// <param name="Keyspace">Keys are key:000000000000 .. key:(Keyspace-1), chosen uniformly at random.</param>
/// <param name="ValueSize">Bytes per SET value.</param>
/// <param name="Test">set, get or mixed (for the report).</param>
/// <param name="ReadPercent">Share of GETs, 0–100; the rest are SETs.</param>
/// <param name="Requests">Stop after this many requests (null: only the duration bounds the run).</param>
/// <param name="Duration">Stop issuing requests after this long (null: only the request count bounds it).</param>
/// <param name="Populate">SET every key of the keyspace once before the measured run.</param>
/// <param name="ReplyTimeout">A batch whose replies take longer counts its unanswered requests as errors and reconnects.</param>
internal sealed record BenchSettings(
    IReadOnlyList<BenchTarget> Targets,
    int Connections,
    int Pipeline,
    long Keyspace,
    int ValueSize,
    string Test,
    int ReadPercent,
    long? Requests,
    TimeSpan? Duration,
    bool Populate,
    TimeSpan ReplyTimeout)
{
    /// <summary>
    /// <c>--cluster</c>: read the slot map from the first target's CLUSTER NODES, spread the connections over the nodes
    /// it lists, and send each connection only keys whose slot its node coordinates (as a cluster-aware client does).
    /// </summary>
    public bool SlotAware { get; init; }

    /// <summary>Largest keyspace: keys carry 12 decimal digits.</summary>
    public const long MaxKeyspace = 1_000_000_000_000;

    /// <exception cref="BenchException">A setting is out of range.</exception>
    public void Validate()
    {
        if (Targets.Count == 0)
        {
            throw new BenchException("give at least one target (--targets HOST:PORT)");
        }

        Check(Connections is >= 1 and <= 10_000, "--connections must be 1..10000");
        Check(Pipeline is >= 1 and <= 10_000, "--pipeline must be 1..10000");
        Check(Keyspace is >= 1 and <= MaxKeyspace, "--keyspace must be 1..10^12");
        Check(ValueSize is >= 0 and <= 512 * 1024 * 1024, "--value-size must be 0..536870912");
        Check(ReadPercent is >= 0 and <= 100, "--read-percent must be 0..100");
        Check(Requests is null or >= 1, "--requests must be at least 1");
        Check(Duration is null || Duration > TimeSpan.Zero, "--duration must be above 0");
        Check(ReplyTimeout > TimeSpan.Zero, "--timeout must be above 0");
    }

    private static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new BenchException(message);
        }
    }
}

/// <summary>A load-generator failure with a message for the user (exit code 1).</summary>
internal sealed class BenchException : Exception
{
    public BenchException(string message)
        : base(message)
    {
    }

    public BenchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public BenchException()
    {
    }
}
