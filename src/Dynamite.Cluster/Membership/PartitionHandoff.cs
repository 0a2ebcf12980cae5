using System.Globalization;
using System.Text;
using Dynamite.Cluster.Runtime;
using Dynamite.Cluster.State;
using Dynamite.Cluster.AntiEntropy;
using Dynamite.Cluster.Metrics;
using Dynamite.Core.Gossip;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Microsoft.Extensions.Logging;

namespace Dynamite.Cluster.Membership;

/// <summary>
/// Copies partitions onto this node when ownership moves to it (online handoff) and when it comes back empty in
/// place of itself (warm-up). Both pull: the node that needs a partition runs a Merkle exchange
/// (<see cref="AntiEntropyService.ExchangeAsync"/>) with every reachable replica of the current map, so only the
/// keys it lacks move, a repeated or resumed copy moves nothing twice, and writes that land meanwhile merge by
/// version. A partition counts as copied once every reachable source exchanged without error; when all are,
/// a gaining node reports ready (the plan switches when every gainer has) and a warming node starts serving reads.
/// <para>
/// Rate-limited: one exchange at a time (each already paced by the anti-entropy service) and at most
/// <see cref="KeysPerSecond"/> keys copied per second. Resumable: copied partitions are saved per plan (ring
/// version) in the data directory, so a node that crashes mid-copy continues where it was.
/// </para>
/// </summary>
public sealed class PartitionHandoff : IAsyncDisposable
{
    private const string ProgressFileName = "handoff-progress";
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);

    /// <summary>The wait after a step that left nothing to do (no plan this node must copy for, the ring's partitions
    /// released): a change of the cluster's state wakes the loop at once, so this only paces the release recheck.</summary>
    public static readonly TimeSpan IdleInterval = TimeSpan.FromSeconds(10);

    /// <summary>Time between two release passes once a ring's partitions were released cleanly.</summary>
    private static readonly TimeSpan ReleaseRecheck = TimeSpan.FromMinutes(1);

    /// <summary>Several gossip rounds: by then every live node routes its writes to the gainers too.</summary>
    private static readonly TimeSpan CatchUpDelay = TimeSpan.FromSeconds(3);

    private readonly GossipMembership _membership;
    private readonly AntiEntropyService _exchanger;
    private readonly NodeDescriptor _self;
    private readonly INodeStateStore _files;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly BackgroundWorker _worker;
    private readonly PartitionRelease _release;

    // The ring (version, plan digest) whose partitions were last released cleanly, and when (the clock's timestamp).
    private (long Version, ulong Digest) _releasedFor = (-1, 0);
    private long _releasedAt;
    private volatile HandoffStatus _status = HandoffStatus.Idle;

    public PartitionHandoff(GossipMembership membership, AntiEntropyService exchanger, PartitionRelease release, NodeDescriptor self, INodeStateStore files, int keysPerSecond, TimeProvider clock, ILogger<PartitionHandoff> logger)
    {
        _release = release;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(keysPerSecond);
        _membership = membership;
        _exchanger = exchanger;
        _self = self;
        _files = files;
        KeysPerSecond = keysPerSecond;
        _clock = clock;
        _logger = logger;
        _worker = new BackgroundWorker("partition handoff", RetryInterval, StepAsync, clock, logger);
        _membership.StateChanged += _ => Wake();
    }

    public int KeysPerSecond { get; }

    public HandoffStatus Status => _status;

    /// <summary>Where keys copied in are counted (<see cref="ClusterMetrics.HandoffKeysCopied"/>); null: not counted.</summary>
    public ClusterMetrics? Metrics { get; init; }

    public void Start()
    {
        if (_membership.NeedsWarmUp)
        {
            // The data is new (a volatile engine restarted): partitions saved as copied are not here any more.
            _files.Delete(ProgressFileName);
        }

        _worker.Start();
    }

    public void Wake() => _worker.Wake();

    public ValueTask DisposeAsync() => _worker.DisposeAsync();

    private async Task<TimeSpan> StepAsync(CancellationToken stopping)
    {
        try
        {
            await CopyOwedAsync(stopping);
        }
        catch (Exception exception) when (exception is not OperationCanceledException and not OutOfMemoryException)
        {
            _status = _status with { LastError = exception.Message };
            throw;
        }

        return IsSettled() ? IdleInterval : RetryInterval;
    }

    /// <summary>Nothing for this node to do until the cluster's state changes (which wakes the loop) or the release
    /// recheck is due: it serves reads, copies nothing, and released what the current ring took from it.</summary>
    private bool IsSettled()
    {
        if (_membership.IsWarming || _membership.State.Ring is not { } ring || _status.Phase != HandoffPhase.Idle)
        {
            return false;
        }

        // With a plan pending, an idle status means this node reported ready or gains nothing: the others decide now.
        return ring.Pending is not null || _releasedFor == (ring.Version, ring.PlanDigest);
    }

    private async Task CopyOwedAsync(CancellationToken stopping)
    {
        ClusterState state = _membership.State;
        RingState? ring = state.Ring;
        if (ring is null)
        {
            return;
        }

        int replicas = _membership.Replicas;
        if (_membership.IsWarming)
        {
            // Every partition this node replicates now or under the pending plan (it may have reported ready
            // for that plan before its data was lost).
            var owned = new SortedSet<PartitionId>(HandoffPlan.ReplicatedBy(ring.Current, _self.Id, replicas), Comparer<PartitionId>.Create(static (x, y) => x.Value.CompareTo(y.Value)));
            if (ring.Pending is not null)
            {
                owned.UnionWith(HandoffPlan.ReplicatedBy(ring.Pending, _self.Id, replicas));
            }

            if (await CopyAsync(HandoffPhase.WarmingUp, 0, 0, [.. owned], ring, replicas, save: true, stopping))
            {
                _files.Delete(ProgressFileName);
                _membership.CompleteWarmUp();
                _logger.LogInformation("Warm-up complete: {Partitions} partitions copied from the replicas; serving reads", owned.Count);
                _status = HandoffStatus.Idle;
            }

            return;
        }

        if (ring.Pending is null)
        {
            await ReleaseIfDueAsync(ring, stopping);
        }

        if (ring.Pending is null || ring.Ready.Contains(_self.Id))
        {
            if (_status.Phase != HandoffPhase.Idle)
            {
                _status = HandoffStatus.Idle;
            }

            return;
        }

        IReadOnlyList<PartitionId> gained = HandoffPlan.GainedBy(ring.Current, ring.Pending, _self.Id, replicas);
        if (gained.Count == 0)
        {
            // Not a gainer: the plan does not wait for this node.
            _status = HandoffStatus.Idle;
            return;
        }

        if (!await CopyAsync(HandoffPhase.Copying, ring.Version, ring.PlanDigest, gained, ring, replicas, save: true, stopping))
        {
            return;
        }

        // A coordinator that had not learned of the plan yet wrote only to the current replicas: once gossip has
        // had time to reach every node, one more pass (Merkle exchanges, so only what changed moves) catches up.
        await Task.Delay(CatchUpDelay, _clock, stopping);
        if (_membership.State.Ring is { } now && now.IsSamePlan(ring)
            && await CopyAsync(HandoffPhase.Copying, ring.Version, ring.PlanDigest, gained, ring, replicas, save: false, stopping))
        {
            _membership.ReportReady(ring);
            _logger.LogInformation("Handoff for ring v{Version} complete: {Partitions} partitions copied; reported ready", ring.Version, gained.Count);
        }
    }

    /// <summary>
    /// With no plan pending, hands off and deletes data of partitions this node does not replicate: after every ring
    /// change, until a pass finds nothing left, and then once a minute (a stale coordinator's write may land later).
    /// </summary>
    private async Task ReleaseIfDueAsync(RingState ring, CancellationToken stopping)
    {
        if (_releasedFor == (ring.Version, ring.PlanDigest) && _clock.GetElapsedTime(_releasedAt) < ReleaseRecheck)
        {
            return;
        }

        _releasedAt = _clock.GetTimestamp();
        _releasedFor = await _release.ReleaseAsync(ring.Current, stopping) ? (ring.Version, ring.PlanDigest) : (-1, 0);
    }

    /// <summary>Copies every partition not yet copied for this plan (all of them when <paramref name="save"/> is false: a catch-up pass); true when all are.</summary>
    private async Task<bool> CopyAsync(HandoffPhase phase, long planVersion, ulong planDigest, IReadOnlyList<PartitionId> partitions, RingState ring, int replicas, bool save, CancellationToken stopping)
    {
        HashSet<int> done = save ? LoadProgress(phase, planVersion, planDigest) : [];
        _status = new HandoffStatus(phase, planVersion, partitions.Count, done.Count, null);
        string? blocked = null;
        foreach (PartitionId partition in partitions)
        {
            if (done.Contains(partition.Value))
            {
                continue;
            }

            if (phase == HandoffPhase.Copying && _membership.State.Ring is { } now && !now.IsSamePlan(ring))
            {
                // The plan changed under us; the next step works on the new one.
                return false;
            }

            string? failure = await CopyPartitionAsync(partition, ring, replicas, stopping);
            if (failure is not null)
            {
                blocked = $"partition {partition}: {failure}";
                continue;
            }

            done.Add(partition.Value);
            if (save)
            {
                SaveProgress(phase, planVersion, planDigest, done);
            }

            _status = new HandoffStatus(phase, planVersion, partitions.Count, done.Count, blocked);
        }

        _status = new HandoffStatus(phase, planVersion, partitions.Count, done.Count, blocked);
        return blocked is null;
    }

    /// <summary>Exchanges one partition with each reachable current replica; null when done, else why not.</summary>
    private async Task<string?> CopyPartitionAsync(PartitionId partition, RingState ring, int replicas, CancellationToken stopping)
    {
        ClusterState state = _membership.State;
        int exchanged = 0;
        int sources = 0;
        foreach (NodeId source in HandoffPlan.SourcesOf(ring.Current, partition, _self.Datacenter, replicas))
        {
            if (source == _self.Id || !state.TryGetMember(source, out MemberRecord? member) || member!.Status == MemberStatus.Removed)
            {
                continue;
            }

            sources++;
            if (!_membership.IsReachable(source))
            {
                continue;
            }

            ExchangeResult result = await _exchanger.ExchangeAsync(partition, source, stopping);
            if (result.Error is not null)
            {
                return $"exchange with {source} failed: {result.Error}";
            }

            exchanged++;
            Metrics?.HandoffKeysCopiedCounter.Add(result.KeysRepaired);
            if (result.KeysRepaired > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds((double)result.KeysRepaired / KeysPerSecond), _clock, stopping);
            }
        }

        return sources > 0 && exchanged == 0 ? "no replica holding it is reachable" : null;
    }

    private HashSet<int> LoadProgress(HandoffPhase phase, long planVersion, ulong planDigest)
    {
        var done = new HashSet<int>();
        byte[]? saved;
        try
        {
            saved = _files.Read(ProgressFileName);
        }
        catch (IOException exception)
        {
            _logger.LogWarning("Handoff progress unreadable ({Reason}); copying again from the start", exception.Message);
            return done;
        }

        string[] lines = saved is null ? [] : Encoding.UTF8.GetString(saved).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0 || lines[0] != Header(phase, planVersion, planDigest))
        {
            return done;
        }

        foreach (string line in lines.AsSpan(1))
        {
            if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out int partition))
            {
                done.Add(partition);
            }
        }

        return done;
    }

    private void SaveProgress(HandoffPhase phase, long planVersion, ulong planDigest, HashSet<int> done)
    {
        string text = string.Join('\n', [Header(phase, planVersion, planDigest), .. done.Order().Select(p => p.ToString(CultureInfo.InvariantCulture))]) + "\n";
        _files.Write(ProgressFileName, Encoding.UTF8.GetBytes(text));
    }

    private static string Header(HandoffPhase phase, long planVersion, ulong planDigest) =>
        string.Create(CultureInfo.InvariantCulture, $"{phase} {planVersion} {planDigest:x16}");
}
