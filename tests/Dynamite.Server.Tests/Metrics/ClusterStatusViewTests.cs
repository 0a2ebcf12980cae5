using System.Text.Json;
using Dynamite.Cluster.Metrics;
using Dynamite.Core.Membership;
using Dynamite.Protocols.Resp;
using Dynamite.Protocols.Resp.Commands;
using Dynamite.Server.Admin;
using Dynamite.Server.Configuration;
using Dynamite.Server.Hosting;
using Dynamite.Server.Metrics;
using Dynamite.Storage;
using Dynamite.Storage.Memory;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Dynamite.Server.Tests.Metrics;

/// <summary>
/// The one-source rule: what is recorded into a node's instruments is what INFO's cluster and stats sections and the
/// admin status report, under the names scripts and <c>dynamite status</c> read. The node is composed, not started.
/// </summary>
public sealed class ClusterStatusViewTests : IAsyncLifetime
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("dynamite-status-").FullName;
    private readonly NodeMetrics _metrics = new();
    private IStorageEngine _engine = null!;
    private ClusterServices _cluster = null!;
    private ClusterStatusView _view = null!;

    public Task InitializeAsync()
    {
        var configuration = new NodeConfiguration
        {
            NodeId = "n1",
            Engine = "memory",
            DataDir = _dataDirectory,
            Seeds = ["127.0.0.1:1"],
            ClusterName = "status-test",
            ClusterSecret = "secret",
        };
        _engine = new MemoryStorageEngine(new Core.Partitioning.KeyPartitioner(configuration.PartitionBits));
        _metrics.ObserveDataEngine(_engine);
        _cluster = ClusterServices.Create(configuration, _engine, TimeProvider.System, NullLoggerFactory.Instance, _metrics);
        _metrics.ObserveCluster(_cluster);
        _view = new ClusterStatusView(_cluster, _metrics.Reader);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _engine.DisposeAsync();
        _metrics.Dispose();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    [Fact]
    public void InfoLines_CountersRecorded_AppearUnderTheirInfoNames()
    {
        Record();

        var info = _view.InfoLines().ToDictionary(line => line.Key, line => line.Value);

        Assert.Equal("5", info["hints_stored"]);
        Assert.Equal("4", info["hints_replayed"]);
        Assert.Equal("1", info["hints_unreadable"]);
        Assert.Equal("3", info["read_repairs"]);
        Assert.Equal("2", info["speculative_reads"]);
        Assert.Equal("6", info["replica_write_failures"]);
        Assert.Equal("7", info["aae_rounds"]);
        Assert.Equal("8", info["aae_keys_repaired"]);
        Assert.Equal("900", info["aae_bytes_exchanged"]);
        Assert.Equal("10", info["tombstones_collected"]);
        Assert.Equal("11", info["handoff_keys_copied"]);
        Assert.Equal("0", info["hints_pending"]);
        Assert.Equal("0", info["replica_writes_in_flight"]);
        Assert.Equal("0", info["handoff_partitions_pending"]);
        Assert.Equal(_cluster.Trees.ApproximateBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), info["aae_tree_bytes"]);
        Assert.Equal("waiting", info["cluster_state"]);
    }

    [Fact]
    public async Task InfoLines_HintsKept_ArePendingInTotalAndPerNode()
    {
        await _cluster.Hints.AddAsync(new NodeId("n2"), "k1"u8.ToArray(), Object("v"));
        await _cluster.Hints.AddAsync(new NodeId("n2"), "k2"u8.ToArray(), Object("v"));
        await _cluster.Hints.AddAsync(new NodeId("n3"), "k1"u8.ToArray(), Object("v"));

        var info = _view.InfoLines().ToDictionary(line => line.Key, line => line.Value);

        Assert.Equal("3", info["hints_pending"]);
        Assert.Equal("2", info["hints_pending_for_n2"]);
        Assert.Equal("1", info["hints_pending_for_n3"]);
    }

    [Fact]
    public async Task Status_CountersRecorded_AppearInTheFieldsTheCliReads()
    {
        Record();
        await _cluster.Hints.AddAsync(new NodeId("n2"), "k"u8.ToArray(), Object("v"));
        await _engine.ExecuteAsync(new PutOperation("local"u8.ToArray()), 0);

        using JsonDocument document = JsonDocument.Parse(JsonSerializer.Serialize(_view.Status()));
        JsonElement status = document.RootElement;

        Assert.Equal(4, status.GetProperty("hintsReplayed").GetInt64());
        Assert.Equal(3, status.GetProperty("readRepairs").GetInt64());
        Assert.Equal(5, status.GetProperty("hintsStored").GetInt64());
        Assert.Equal(2, status.GetProperty("speculativeReads").GetInt64());
        Assert.Equal(1, status.GetProperty("localKeys").GetInt64());
        Assert.Equal(1, status.GetProperty("hintsPending").GetProperty("n2").GetInt64());
        Assert.Equal(11, status.GetProperty("handoff").GetProperty("keysCopied").GetInt64());
        JsonElement antiEntropy = status.GetProperty("antiEntropy");
        Assert.Equal(7, antiEntropy.GetProperty("rounds").GetInt64());
        Assert.Equal(8, antiEntropy.GetProperty("keysRepaired").GetInt64());
        Assert.Equal(900, antiEntropy.GetProperty("bytesExchanged").GetInt64());
        Assert.Equal(10, antiEntropy.GetProperty("tombstonesCollected").GetInt64());
        Assert.Equal(_cluster.Trees.ApproximateBytes, antiEntropy.GetProperty("treeBytes").GetInt64());
    }

    [Fact]
    public void CommandStats_CommandsTimed_AreCallsAndMicrosecondsPerFamily()
    {
        _metrics.Resp.CommandDone(CommandFamily.Read, System.Diagnostics.Stopwatch.GetTimestamp());
        _metrics.Resp.CommandDone(CommandFamily.Read, System.Diagnostics.Stopwatch.GetTimestamp());
        _metrics.Resp.CommandDone(CommandFamily.Write, System.Diagnostics.Stopwatch.GetTimestamp());

        var stats = CommandStats.InfoLines(_metrics.Reader.Snapshot()).ToDictionary(line => line.Key, line => line.Value);

        Assert.Equal(RespMetrics.FamilyNames.Count, stats.Count);
        Assert.StartsWith("calls=2,usec=", stats["command_family_read"], StringComparison.Ordinal);
        Assert.StartsWith("calls=1,usec=", stats["command_family_write"], StringComparison.Ordinal);
        Assert.Equal("calls=0,usec=0,usec_per_call=0.00", stats["command_family_server"]);
    }

    /// <summary>Records into each cluster instrument a distinct amount, as the runtime would.</summary>
    private void Record()
    {
        ClusterMetrics cluster = _metrics.Cluster;
        cluster.HintsStoredCounter.Add(5);
        cluster.HintsReplayedCounter.Add(4);
        cluster.HintsUnreadableCounter.Add(1);
        cluster.ReadRepairsCounter.Add(3);
        cluster.SpeculativeReadsCounter.Add(2);
        cluster.ReplicaWriteFailuresCounter.Add(6);
        cluster.AntiEntropyRoundsCounter.Add(7);
        cluster.AntiEntropyKeysRepairedCounter.Add(8);
        cluster.AntiEntropyExchangedCounter.Add(900);
        cluster.TombstonesCollectedCounter.Add(10);
        cluster.HandoffKeysCopiedCounter.Add(11);
    }

    private static Core.Versioning.VersionedObject Object(string value) =>
        Core.Versioning.VersionedObject.Empty.Update(Core.Versioning.VersionVector.Empty, new NodeId("n1"), System.Text.Encoding.UTF8.GetBytes(value), 0, 0);

    /// <summary>Writes one key (a plain engine record).</summary>
    private sealed class PutOperation(byte[] key) : Core.KeyValue.IStorageOperation
    {
        public int TouchedKeyCount => 1;

        public byte[] GetTouchedKey(int index) => key;

        public void Execute(Core.KeyValue.IStorageTransaction transaction) => transaction.Write(key, new Core.KeyValue.StoredRecord([1], 0));
    }
}
