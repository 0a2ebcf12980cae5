using System.Globalization;
using System.Text;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// CLUSTER on a cluster node, as Redis Cluster answers it, so that cluster-aware clients (StackExchange.Redis, ioredis'
/// Cluster, redis-py's RedisCluster, redis-cli -c) send each command straight to a node that coordinates its key:
/// SLOTS, SHARDS and NODES describe each slot range with its "master", the first of its primaries in preference order
/// that is up, and, when the node announces them, the other primaries as its replicas (<see cref="ClusterTopology"/>;
/// every node is a master of the ranges it comes first in, since any node serves any key and no MOVED is ever sent),
/// MYID and INFO; KEYSLOT (a key's hash slot, <see cref="HashSlot"/>, which decides its
/// partition), COUNTKEYSINSLOT and GETKEYSINSLOT (the live keys this node stores in a slot: a slot is one range of the
/// key-hash order, so this is one bounded scan); READONLY, READWRITE and ASKING answer OK. A standalone node answers
/// all of these as a redis-server without cluster support does, which is how clients tell the two apart.
/// </summary>
internal static class ClusterCommands
{
    /// <summary>Keys per engine page while walking a slot.</summary>
    private const int SlotPageSize = 1000;

    private static readonly string[] HelpLines =
    [
        "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "COUNTKEYSINSLOT <slot>",
        "    Return the number of keys in <slot>.",
        "GETKEYSINSLOT <slot> <count>",
        "    Return key names stored by current node in a slot.",
        "INFO",
        "    Return information about the cluster.",
        "KEYSLOT <key>",
        "    Return the hash slot for <key>.",
        "MYID",
        "    Return the node id.",
        "NODES",
        "    Return cluster configuration seen by node. Output format:",
        "    <id> <ip:port@cport> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
        "SHARDS",
        "    Return information about slot range mappings and the nodes associated with them.",
        "SLOTS",
        "    Return information about slots range mappings. Each range is made of:",
        "    start, end, master and replicas IP addresses, ports and ids",
        "HELP",
        "    Prints this help.",
    ];

    public static IEnumerable<CommandDefinition> Definitions =>
    [
        new("CLUSTER", -2, CommandFlags.None, 0, 0, 0, "cluster", "3.0.0", "A container for Redis Cluster commands.", Cluster),
        new("READONLY", 1, CommandFlags.Fast | CommandFlags.Loading | CommandFlags.Stale, 0, 0, 0, "cluster", "3.0.0", "Enables read-only queries for a connection to a Redis Cluster replica node.", Acknowledge),
        new("READWRITE", 1, CommandFlags.Fast | CommandFlags.Loading | CommandFlags.Stale, 0, 0, 0, "cluster", "3.0.0", "Enables read-write queries for a connection to a Redis Cluster replica node.", Acknowledge),
        new("ASKING", 1, CommandFlags.Fast, 0, 0, 0, "cluster", "3.0.0", "Signals that a cluster client is following an -ASK redirect.", Acknowledge),
    ];

    private const string Disabled = "ERR This instance has cluster support disabled";

    /// <summary>READONLY, READWRITE, ASKING: every node coordinates every key, for reads and writes alike, and never redirects.</summary>
    private static ValueTask Acknowledge(CommandContext context)
    {
        if (context.Store is not IVersionedKeyValueStore)
        {
            return context.Error(Disabled);
        }

        context.Writer.WriteOk();
        return ValueTask.CompletedTask;
    }

    private static ValueTask Cluster(CommandContext context)
    {
        if (context.Store is not IVersionedKeyValueStore)
        {
            return context.Error(Disabled);
        }

        string? topologyCommand = context.ArgumentCount != 2 ? null
            : context.ArgumentIs(1, "SLOTS") ? "slots"
            : context.ArgumentIs(1, "SHARDS") ? "shards"
            : context.ArgumentIs(1, "NODES") ? "nodes"
            : context.ArgumentIs(1, "MYID") ? "myid"
            : context.ArgumentIs(1, "INFO") ? "info"
            : null;
        if (topologyCommand is not null)
        {
            if (context.Server.Options.ClusterTopology?.Invoke() is not { } topology)
            {
                return context.Error("CLUSTERDOWN The cluster is down: this node has no ring yet");
            }

            switch (topologyCommand)
            {
                case "slots":
                    WriteSlots(context.Writer, topology, context.Client.UsesTls);
                    break;
                case "shards":
                    WriteShards(context.Writer, topology);
                    break;
                case "nodes":
                    context.Writer.WriteVerbatimText(Nodes(topology, context.Client.UsesTls));
                    break;
                case "myid":
                    context.Writer.WriteBulk(topology.SelfId);
                    break;
                default:
                    context.Writer.WriteVerbatimText(Info(topology));
                    break;
            }

            return ValueTask.CompletedTask;
        }

        if (context.ArgumentIs(1, "HELP") && context.ArgumentCount == 2)
        {
            return context.Help(HelpLines);
        }

        if (context.ArgumentIs(1, "KEYSLOT"))
        {
            return context.ArgumentCount != 3 ? context.WrongArgumentCount("cluster|keyslot") : Reply(context, HashSlot.Of(context.Argument(2)));
        }

        if (context.ArgumentIs(1, "COUNTKEYSINSLOT"))
        {
            if (context.ArgumentCount != 3)
            {
                return context.WrongArgumentCount("cluster|countkeysinslot");
            }

            if (!RespNumbers.TryParseInt64(context.Argument(2), out long slot))
            {
                return context.Error(RespErrors.NotInteger);
            }

            return slot is < 0 or >= HashSlot.Count ? context.Error("ERR Invalid slot") : Reply(context, KeysInSlot(context.Store, (int)slot, long.MaxValue, null));
        }

        if (context.ArgumentIs(1, "GETKEYSINSLOT"))
        {
            if (context.ArgumentCount != 4)
            {
                return context.WrongArgumentCount("cluster|getkeysinslot");
            }

            if (!RespNumbers.TryParseInt64(context.Argument(2), out long slot) || !RespNumbers.TryParseInt64(context.Argument(3), out long count))
            {
                return context.Error(RespErrors.NotInteger);
            }

            if (slot is < 0 or >= HashSlot.Count || count < 0)
            {
                return context.Error("ERR Invalid slot or number of keys");
            }

            var keys = new List<byte[]>();
            KeysInSlot(context.Store, (int)slot, count, keys);
            context.Writer.WriteArrayHeader(keys.Count);
            foreach (byte[] key in keys)
            {
                context.Writer.WriteBulk(key);
            }

            return ValueTask.CompletedTask;
        }

        return context.Error(RespErrors.UnknownSubcommand(context.ArgumentString(1), "CLUSTER"));
    }

    /// <summary>
    /// CLUSTER SLOTS: per slot range, its first and last slot, then each node (host, port, id), the master first; the
    /// ports are TLS ones for a client connected over TLS.
    /// </summary>
    private static void WriteSlots(RespWriter writer, ClusterTopology topology, bool tls)
    {
        var ranges = topology.Ranges.Where(r => r.Nodes.Any(HasAddress)).ToList();
        writer.WriteArrayHeader(ranges.Count);
        foreach (ClusterSlotRange range in ranges)
        {
            var nodes = range.Nodes.Where(HasAddress).ToList();
            writer.WriteArrayHeader(2 + nodes.Count);
            writer.WriteInteger(range.First);
            writer.WriteInteger(range.Last);
            foreach (ClusterTopologyNode node in nodes)
            {
                writer.WriteArrayHeader(3);
                writer.WriteBulk(node.Host);
                writer.WriteInteger(node.PortFor(tls));
                writer.WriteBulk(node.Id);
            }
        }
    }

    /// <summary>CLUSTER SHARDS: each distinct list of nodes is one shard, with every slot range it holds; a node's plain and TLS ports as <c>port</c> and <c>tls-port</c>.</summary>
    private static void WriteShards(RespWriter writer, ClusterTopology topology)
    {
        var shards = topology.Ranges.Where(r => r.Nodes.Any(HasAddress))
            .GroupBy(r => string.Join(" ", r.Nodes.Select(n => n.Id)), StringComparer.Ordinal)
            .ToList();
        writer.WriteArrayHeader(shards.Count);
        foreach (IGrouping<string, ClusterSlotRange> shard in shards)
        {
            writer.WriteMapHeader(2);
            writer.WriteBulk("slots");
            writer.WriteArrayHeader(2 * shard.Count());
            foreach (ClusterSlotRange range in shard)
            {
                writer.WriteInteger(range.First);
                writer.WriteInteger(range.Last);
            }

            var nodes = shard.First().Nodes.Where(HasAddress).ToList();
            writer.WriteBulk("nodes");
            writer.WriteArrayHeader(nodes.Count);
            for (int i = 0; i < nodes.Count; i++)
            {
                int plain = nodes[i].PlainPort;
                writer.WriteMapHeader(6 + (plain > 0 ? 1 : 0) + (nodes[i].TlsPort > 0 ? 1 : 0));
                writer.WriteBulk("id");
                writer.WriteBulk(nodes[i].Id);
                if (plain > 0)
                {
                    writer.WriteBulk("port");
                    writer.WriteInteger(plain);
                }

                if (nodes[i].TlsPort > 0)
                {
                    writer.WriteBulk("tls-port");
                    writer.WriteInteger(nodes[i].TlsPort);
                }

                writer.WriteBulk("ip");
                writer.WriteBulk(nodes[i].Host);
                writer.WriteBulk("endpoint");
                writer.WriteBulk(nodes[i].Host);
                writer.WriteBulk("role");
                writer.WriteBulk(i == 0 ? "master" : "replica");
                writer.WriteBulk("replication-offset");
                writer.WriteInteger(0);
                writer.WriteBulk("health");
                writer.WriteBulk(nodes[i].Reachable ? "online" : "failed");
            }
        }
    }

    /// <summary>
    /// CLUSTER NODES: a line per member (id, address with its bus port, flags, master, ping and pong times, epoch, link
    /// state, then the slot ranges it is the first node of). Every member is a master: a Dynamo node is a primary of
    /// some ranges and a replica of others, which Redis's master/replica roles cannot say per node.
    /// </summary>
    private static string Nodes(ClusterTopology topology, bool tls)
    {
        var lines = new StringBuilder();
        foreach (ClusterTopologyNode node in topology.Nodes.Where(HasAddress))
        {
            string flags = (node.Id == topology.SelfId ? "myself,master" : "master") + (node.Reachable ? "" : ",fail");
            lines.Append(CultureInfo.InvariantCulture, $"{node.Id} {node.Host}:{node.PortFor(tls)}@0 {flags} - 0 0 {topology.Epoch} {(node.Reachable ? "connected" : "disconnected")}");
            foreach (ClusterSlotRange range in topology.Ranges.Where(r => r.Nodes.FirstOrDefault(HasAddress)?.Id == node.Id))
            {
                lines.Append(' ').Append(range.First.ToString(CultureInfo.InvariantCulture));
                if (range.Last != range.First)
                {
                    lines.Append('-').Append(range.Last.ToString(CultureInfo.InvariantCulture));
                }
            }

            lines.Append('\n');
        }

        return lines.ToString();
    }

    /// <summary>CLUSTER INFO: every slot is served (any node coordinates any key) while this node has a ring.</summary>
    private static string Info(ClusterTopology topology)
    {
        int known = topology.Nodes.Count;
        int masters = topology.Nodes.Count(n => topology.Ranges.Any(r => r.Nodes.FirstOrDefault(HasAddress)?.Id == n.Id));
        int failing = topology.Nodes.Count(n => !n.Reachable);
        return string.Create(CultureInfo.InvariantCulture, $"""
            cluster_state:ok
            cluster_slots_assigned:{HashSlot.Count}
            cluster_slots_ok:{HashSlot.Count}
            cluster_slots_pfail:0
            cluster_slots_fail:0
            cluster_known_nodes:{known}
            cluster_size:{masters}
            cluster_current_epoch:{topology.Epoch}
            cluster_my_epoch:{topology.Epoch}
            cluster_stats_messages_sent:0
            cluster_stats_messages_received:0
            total_cluster_links_buffer_limit_exceeded:0
            cluster_failing_nodes:{failing}

            """).Replace("\n", "\r\n", StringComparison.Ordinal);
    }

    private static bool HasAddress(ClusterTopologyNode node) => node.Port > 0;

    private static ValueTask Reply(CommandContext context, long value)
    {
        context.Writer.WriteInteger(value);
        return ValueTask.CompletedTask;
    }

    /// <summary>Counts (and collects into <paramref name="into"/>, when given) up to <paramref name="limit"/> live keys of <paramref name="slot"/> this node stores.</summary>
    private static long KeysInSlot(IKeyValueStore store, int slot, long limit, List<byte[]>? into)
    {
        long found = 0;
        ulong? from = KeyPartitioner.FirstHashOfSlot(slot);
        while (from is { } cursor && found < limit)
        {
            ScanPage page = store.Scan(cursor, SlotPageSize);
            foreach (byte[] key in page.Keys)
            {
                if (HashSlot.Of(key) != slot)
                {
                    // Keys come in hash order, whose top bits are the slot: the first of another slot ends this one.
                    return found;
                }

                into?.Add(key);
                if (++found == limit)
                {
                    return found;
                }
            }

            from = page.NextHash;
        }

        return found;
    }
}
