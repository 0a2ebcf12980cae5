using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Dynamite.Cluster.State;
using Dynamite.Core.Membership;

namespace Dynamite.Cluster.Node;

/// <summary>
/// The actor this node issues its dots as (<c>node.incarnation</c>): a dot names one write of one key only while no
/// actor issues the same counter for that key twice, and an actor's next counter for a key comes from what this node
/// still holds of the key. So whenever the node may forget dots it issued, it must take a new incarnation before it
/// forgets them: a new data directory (a wiped node), a volatile engine's restart, and a partition released after its
/// handoff (<see cref="Membership.PartitionRelease"/>), after which a fallback that coordinates the same key again would
/// otherwise count from a stale client context and issue, for a new value, a dot the primaries already hold for the
/// old one (the simulation found it: two acknowledged writes with one dot, one of them lost). Persisted in the state
/// store, so a restart keeps the current one; thread-safe.
/// </summary>
public sealed class DataIncarnation
{
    private const string FileName = "incarnation";
    private const int MaxSuffixLength = 16;

    private readonly INodeStateStore _files;
    private readonly bool _volatileData;
    private readonly NodeId _node;
    private readonly Lock _renewing = new();
    private volatile Actors _current;
    private long _renewals;

    /// <param name="files">Where the incarnation is kept across restarts.</param>
    /// <param name="random">Where a new data's incarnation comes from (the node's injected randomness; used here only).</param>
    /// <param name="node">This node's member id, the actor's prefix.</param>
    /// <param name="volatileData">True for an engine whose data does not survive a restart: a new incarnation on every start.</param>
    public DataIncarnation(INodeStateStore files, Random random, NodeId node, bool volatileData)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(random);
        _files = files;
        _node = node;
        _volatileData = volatileData;
        string? saved = volatileData ? null : Saved(files);
        if (saved is null)
        {
            byte[] bytes = new byte[4];
            random.NextBytes(bytes);
            saved = Convert.ToHexStringLower(bytes);
            Save(saved);
        }

        _current = Of(saved);
    }

    /// <summary>The actor of the dots this node issues now.</summary>
    public NodeId Actor => _current.Actor;

    /// <summary>
    /// The actor a staged transaction's dots are issued as: the current actor with a character no incarnation holds,
    /// so it is this node's and this incarnation's only (ClusterCoordinator.BeginTransaction says why it differs).
    /// </summary>
    public NodeId TransactionActor => _current.TransactionActor;

    /// <summary>
    /// Takes a new incarnation, saved before it is used: call it before deleting data this node may have coordinated, so
    /// that no write after the deletion counts on from dots the node no longer sees.
    /// </summary>
    public void Renew()
    {
        lock (_renewing)
        {
            // The next incarnation hashes the current one with a count: deterministic (the simulation replays it), drawn
            // from no shared random stream, and 64 bits wide, so a node's incarnations do not repeat.
            string current = _current.Actor.Value[(_node.Value.Length + 1)..];
            byte[] input = new byte[Encoding.UTF8.GetByteCount(current) + sizeof(long)];
            int length = Encoding.UTF8.GetBytes(current, input);
            BinaryPrimitives.WriteInt64LittleEndian(input.AsSpan(length), ++_renewals);
            int digits = Math.Clamp(NodeId.MaxByteLength - Encoding.UTF8.GetByteCount(_node.Value) - 1, 8, 16);
            string next = XxHash64.HashToUInt64(input).ToString("x16", System.Globalization.CultureInfo.InvariantCulture)[..digits];
            Save(next);
            _current = Of(next);
        }
    }

    private static string? Saved(INodeStateStore files)
    {
        if (files.Read(FileName) is not { } saved)
        {
            return null;
        }

        string existing = Encoding.UTF8.GetString(saved).Trim();
        return existing.Length is > 0 and <= MaxSuffixLength ? existing : null;
    }

    /// <summary>Writes the incarnation durably before it is used, unless the data is volatile.</summary>
    private void Save(string incarnation)
    {
        if (!_volatileData)
        {
            _files.Write(FileName, Encoding.UTF8.GetBytes(incarnation));
        }
    }

    /// <summary><paramref name="actor"/> with a character no incarnation holds, within the id limit: its transactions' actor.</summary>
    public static NodeId TransactionActorOf(NodeId actor) =>
        new(Encoding.UTF8.GetByteCount(actor.Value) < NodeId.MaxByteLength ? actor.Value + "~" : actor.Value[..^1] + "~");

    private Actors Of(string incarnation)
    {
        var actor = new NodeId($"{_node}.{incarnation}");
        return new Actors(actor, TransactionActorOf(actor));
    }

    private sealed record Actors(NodeId Actor, NodeId TransactionActor);
}
