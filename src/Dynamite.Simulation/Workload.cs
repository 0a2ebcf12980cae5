using System.Globalization;
using System.Text;
using Dynamite.Core.DataTypes;
using Dynamite.Core.Membership;
using Dynamite.Core.Versioning;
using Dynamite.Protocols.Resp.Commands.ListOperations;
using Dynamite.Protocols.Resp.Commands.SortedSetOperations;

namespace Dynamite.Simulation;

/// <summary>
/// Closed-loop clients: each issues one operation at a time through a random node, waits up to
/// <see cref="SimulationOptions.MaxThinkMs"/>, and issues the next, until the workload phase ends. Every written
/// value is unique (client and sequence number), so a value in a store names the write it came from. Clients sit
/// outside the faulty network (a client reaches any node that is up); a node that is down refuses at once.
/// </summary>
public sealed class Workload
{
    private readonly SimulatedNetwork _network;
    private readonly SimulationOptions _options;
    private readonly IReadOnlyList<SimulatedNode> _nodes;
    private readonly History _history;
    private readonly WriteLedger _ledger;
    private readonly int[] _sequence;
    private readonly Dictionary<string, List<string>> _acknowledgedAdds = new(StringComparer.Ordinal);

    /// <summary>
    /// The actor the collection operations are built with: a standalone node's dots. On a cluster the coordinator's
    /// id replaces it (TypedDeltaOperation.BuildDelta), so it never reaches a replica.
    /// </summary>
    private static readonly NodeId CollectionActor = new("simulation-client");
    private int _inFlight;

    public Workload(SimulatedNetwork network, SimulationOptions options, IReadOnlyList<SimulatedNode> nodes, History history, WriteLedger ledger)
    {
        _ledger = ledger;
        _network = network;
        _options = options;
        _nodes = nodes;
        _history = history;
        _sequence = new int[options.Clients];
        DynamoKeys = [.. Enumerable.Range(0, options.DynamoKeys).Select(i => $"d{i}")];
        PlainKeys = [.. Enumerable.Range(0, options.LastWriterWinsKeys).Select(i => $"p{i}")];
        SetKeys = [.. Enumerable.Range(0, options.SetKeys).Select(i => $"s{i}")];
        TypedSetKeys = [.. Enumerable.Range(0, options.TypedSetKeys).Select(i => $"t{i}")];
        CounterKeys = [.. Enumerable.Range(0, options.CounterKeys).Select(i => $"k{i}")];
        SortedSetKeys = [.. Enumerable.Range(0, options.CollectionKeys).Select(i => $"z{i}")];
        ListKeys = [.. Enumerable.Range(0, options.CollectionKeys).Select(i => $"l{i}")];
    }

    /// <summary>The collection workload's sorted sets (<see cref="SimulationOptions.CollectionKeys"/>).</summary>
    public IReadOnlyList<string> SortedSetKeys { get; }

    /// <summary>The collection workload's lists (<see cref="SimulationOptions.CollectionKeys"/>).</summary>
    public IReadOnlyList<string> ListKeys { get; }

    /// <summary>The typed-set workload's keys (<see cref="SimulationOptions.TypedSetKeys"/>).</summary>
    public IReadOnlyList<string> TypedSetKeys { get; }

    /// <summary>The counter workload's keys (<see cref="SimulationOptions.CounterKeys"/>).</summary>
    public IReadOnlyList<string> CounterKeys { get; }

    /// <summary>The set workload's keys; a set is stored as its elements joined by <see cref="SetSeparator"/>.</summary>
    public IReadOnlyList<string> SetKeys { get; }

    /// <summary>Separates set elements inside one value (',' already separates sibling values in a read's answer).</summary>
    public const char SetSeparator = '|';

    /// <summary>The elements a reader of <paramref name="obj"/> sees under <paramref name="policy"/>.</summary>
    public static SortedSet<string> ElementsOf(VersionedObject obj, SetPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(obj);
        var elements = new SortedSet<string>(StringComparer.Ordinal);
        IEnumerable<Sibling> seen = policy == SetPolicy.Siblings
            ? obj.Siblings
            : obj.ResolveLastWriterWins() is { } winner ? [winner] : [];
        foreach (Sibling sibling in seen)
        {
            if (sibling.Value is { Length: > 0 } value)
            {
                elements.UnionWith(Encoding.UTF8.GetString(value).Split(SetSeparator));
            }
        }

        return elements;
    }

    public IReadOnlyList<string> DynamoKeys { get; }

    public IReadOnlyList<string> PlainKeys { get; }

    public IEnumerable<string> AllKeys => DynamoKeys.Concat(PlainKeys).Concat(SetKeys);

    /// <summary>Operations whose client has not heard back yet.</summary>
    public int InFlight => _inFlight;

    public void Start()
    {
        for (int client = 0; client < _options.Clients; client++)
        {
            int id = client;
            _network.Schedule(_network.Random.NextInt64(0, _options.MaxThinkMs + 1), () => Issue(id));
        }
    }

    /// <summary>The live values of an object, sorted and comma-separated (a read's answer in the history).</summary>
    public static string ValuesOf(VersionedObject obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        var values = new List<string>();
        foreach (Sibling sibling in obj.Siblings)
        {
            if (sibling.Value is not null)
            {
                values.Add(Encoding.UTF8.GetString(sibling.Value));
            }
        }

        values.Sort(StringComparer.Ordinal);
        return string.Join(",", values);
    }

    private void Issue(int client)
    {
        if (_network.Clock.ElapsedMs >= _options.WorkloadMs)
        {
            return;
        }

        Random random = _network.Random;
        double roll = random.NextDouble();
        OperationKind kind = roll < 0.3 ? OperationKind.Read : roll < 0.7 || PlainKeys.Count == 0 ? OperationKind.DynamoWrite : OperationKind.PlainWrite;
        if (kind == OperationKind.DynamoWrite && DynamoKeys.Count == 0)
        {
            kind = OperationKind.PlainWrite;
        }

        // Drawn only when the set workload is on, so seeds without it keep their histories.
        if (SetKeys.Count > 0 && random.NextDouble() < 0.5)
        {
            kind = OperationKind.SetAdd;
        }

        // Drawn only when the typed-set workload is on, so seeds without it keep their histories.
        if (TypedSetKeys.Count > 0 && random.NextDouble() < 0.5)
        {
            IssueTypedSet(client, random);
            return;
        }

        // Likewise for counters.
        if (CounterKeys.Count > 0 && random.NextDouble() < 0.5)
        {
            IssueCounter(client, random);
            return;
        }

        // And for sorted sets and lists.
        if (SortedSetKeys.Count > 0 && random.NextDouble() < 0.5)
        {
            IssueCollection(client, random);
            return;
        }

        string key = kind switch
        {
            OperationKind.SetAdd => SetKeys[random.Next(SetKeys.Count)],
            OperationKind.DynamoWrite => DynamoKeys[random.Next(DynamoKeys.Count)],
            OperationKind.PlainWrite => PlainKeys[random.Next(PlainKeys.Count)],
            _ => AllKeys.ElementAt(random.Next(DynamoKeys.Count + PlainKeys.Count)),
        };
        SimulatedNode node = _nodes[random.Next(_nodes.Count)];
        string? value = kind == OperationKind.Read ? null : $"c{client}-{++_sequence[client]}";
        HistoryEntry entry = _history.Invoke(client, kind, key, node.Id.Value, value, _network.Clock.ElapsedMs);
        _inFlight++;
        bool completed = false;

        void Complete(OperationStatus status, string? error)
        {
            if (completed)
            {
                return;
            }

            completed = true;
            _inFlight--;
            entry.Status = status;
            entry.Error = error;
            entry.CompletedMs = _network.Clock.ElapsedMs;
            _network.Log(entry.ToString());
            _network.Schedule(random.NextInt64(0, _options.MaxThinkMs + 1), () => Issue(client));
        }

        // The client's answer travels back over a link outside the faulty network.
        void Reply(Action answer) => _network.Schedule(_options.MinDelayMs, answer);

        _network.Schedule(_options.ClientTimeoutMs, () => Complete(kind == OperationKind.Read ? OperationStatus.Failed : OperationStatus.Indeterminate, "client timeout"));
        _network.Schedule(_options.MinDelayMs, () =>
        {
            bool accepted = node.Submit(() =>
            {
                switch (kind)
                {
                    case OperationKind.Read:
                        node.Get(key, _options.ReadQuorum, read => Reply(() =>
                        {
                            if (!completed && read.Ok)
                            {
                                entry.Value = ValuesOf(read.Merged);
                            }

                            Complete(read.Ok ? OperationStatus.Ok : OperationStatus.Failed, read.Error);
                        }));
                        break;
                    case OperationKind.DynamoWrite:
                        node.Get(key, _options.ReadQuorum, read =>
                        {
                            if (!read.Ok)
                            {
                                Reply(() => Complete(OperationStatus.Failed, "read before write: " + read.Error));
                                return;
                            }

                            entry.Context = read.Merged.Context;
                            _ledger.Submit(key, value!, read.Merged.Context);
                            node.Put(key, read.Merged.Context, value!, _options.WriteQuorum, written => Reply(() => Written(written)));
                        });
                        break;
                    case OperationKind.SetAdd:
                        node.Get(key, _options.ReadQuorum, read =>
                        {
                            if (!read.Ok)
                            {
                                Reply(() => Complete(OperationStatus.Failed, "read before add: " + read.Error));
                                return;
                            }

                            SortedSet<string> elements = ElementsOf(read.Merged, _options.SetPolicy);
                            elements.Add(value!);
                            entry.Context = read.Merged.Context;
                            string joined = string.Join(SetSeparator, elements);
                            _ledger.Submit(key, joined, read.Merged.Context);
                            node.Put(key, read.Merged.Context, joined, _options.WriteQuorum, written => Reply(() => Written(written)));
                        });
                        break;
                    default:
                        _ledger.Submit(key, value!, null);
                        node.Put(key, null, value!, _options.WriteQuorum, written => Reply(() => Written(written)));
                        break;
                }
            });
            if (!accepted)
            {
                Complete(OperationStatus.Failed, $"{node.Id} is down");
            }
        });

        void Written(WriteOutcome written)
        {
            if (!completed && written.Ok)
            {
                entry.Dot = written.Dot;
            }

            Complete(written.Ok ? OperationStatus.Ok : OperationStatus.Indeterminate, written.Error);
        }
    }

    /// <summary>A typed set command: an add of a unique member, or (three in ten, once an add was acknowledged) a remove of an added one.</summary>
    private void IssueTypedSet(int client, Random random)
    {
        string key = TypedSetKeys[random.Next(TypedSetKeys.Count)];
        List<string> added = _acknowledgedAdds.TryGetValue(key, out List<string>? members) ? members : [];
        bool add = added.Count == 0 || random.NextDouble() < 0.7;
        string member = add ? $"c{client}-{++_sequence[client]}" : added[random.Next(added.Count)];
        var command = new SimulatedSetCommand(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(member), add);
        SubmitToPrimary(client, random, add ? OperationKind.TypedSetAdd : OperationKind.TypedSetRemove, key, member, command, entry =>
        {
            entry.SetCommand = command;
        }, acknowledged: () =>
        {
            if (add)
            {
                if (!_acknowledgedAdds.TryGetValue(key, out List<string>? list))
                {
                    _acknowledgedAdds[key] = list = [];
                }

                list.Add(member);
            }
        });
    }

    /// <summary>
    /// A sorted set's or a list's command, half each. A sorted set gets a ZADD of a unique member with a score of 0 to 99,
    /// or (once an add was acknowledged) a ZADD of a new score for an added member (two in ten) or a ZREM of one (two
    /// in ten); a list an LPUSH or RPUSH of a unique value. The operations are the front end's own.
    /// </summary>
    private void IssueCollection(int client, Random random)
    {
        if (random.NextDouble() < 0.5)
        {
            string listKey = ListKeys[random.Next(ListKeys.Count)];
            string value = $"c{client}-{++_sequence[client]}";
            bool atHead = random.NextDouble() < 0.5;
            var push = new ListPushOperation(
                Encoding.UTF8.GetBytes(listKey), [Encoding.UTF8.GetBytes(value)], atHead, onlyIfExists: false, CollectionActor);
            SubmitToPrimary(client, random, OperationKind.ListPush, listKey, value, push, _ => { }, acknowledged: () => { });
            return;
        }

        string key = SortedSetKeys[random.Next(SortedSetKeys.Count)];
        string zsetKey = "zset:" + key;
        List<string> added = _acknowledgedAdds.TryGetValue(zsetKey, out List<string>? members) ? members : [];
        double roll = random.NextDouble();
        if (added.Count > 0 && roll < 0.2)
        {
            string removed = added[random.Next(added.Count)];
            var remove = SortedSetTakeOperation.Named(Encoding.UTF8.GetBytes(key), [Encoding.UTF8.GetBytes(removed)], CollectionActor);
            SubmitToPrimary(client, random, OperationKind.SortedSetRemove, key, removed, remove, entry => entry.ChangeProbe = () => remove.Removed > 0, acknowledged: () => { });
            return;
        }

        bool rescore = added.Count > 0 && roll < 0.4;
        string member = rescore ? added[random.Next(added.Count)] : $"c{client}-{++_sequence[client]}";
        double score = random.Next(0, 100);
        var add = new SortedSetAddOperation(
            Encoding.UTF8.GetBytes(key), [new ScoredMember(Encoding.UTF8.GetBytes(member), score)],
            SortedSetAddFlags.None, CollectionActor);
        SubmitToPrimary(client, random, OperationKind.SortedSetAdd, key, member, add, _ => { }, acknowledged: () =>
        {
            if (!rescore)
            {
                if (!_acknowledgedAdds.TryGetValue(zsetKey, out List<string>? list))
                {
                    _acknowledgedAdds[zsetKey] = list = [];
                }

                list.Add(member);
            }
        });
    }

    /// <summary>A counter's INCRBY of 1 to 5.</summary>
    private void IssueCounter(int client, Random random)
    {
        string key = CounterKeys[random.Next(CounterKeys.Count)];
        long amount = random.Next(1, 6);
        var command = new SimulatedCounterCommand(Encoding.UTF8.GetBytes(key), amount);
        SubmitToPrimary(client, random, OperationKind.CounterIncrement, key, amount.ToString(CultureInfo.InvariantCulture), command, _ => { }, acknowledged: () => { });
    }

    /// <summary>Sends a typed key's command to a primary of the key, as typed commands need (ClusterCoordinator.ApplyDeltaAsync), and records it.</summary>
    private void SubmitToPrimary(int client, Random random, OperationKind kind, string key, string value, IKeyDeltaOperation command, Action<HistoryEntry> describe, Action acknowledged)
    {
        SimulatedNode picked = _nodes[random.Next(_nodes.Count)];
        IReadOnlyList<NodeId> primaries = picked.IsLiveMember ? picked.PrimariesOf(key) : [];
        SimulatedNode node = primaries.Count == 0 ? picked : _nodes.FirstOrDefault(n => n.Id == primaries[random.Next(primaries.Count)]) ?? picked;
        HistoryEntry entry = _history.Invoke(client, kind, key, node.Id.Value, value, _network.Clock.ElapsedMs);
        describe(entry);
        _inFlight++;
        bool completed = false;

        void Complete(OperationStatus status, string? error)
        {
            if (completed)
            {
                return;
            }

            completed = true;
            _inFlight--;
            entry.Status = status;
            entry.Error = error;
            entry.CompletedMs = _network.Clock.ElapsedMs;
            if (status == OperationStatus.Ok)
            {
                acknowledged();
            }

            _network.Log(entry.ToString());
            _network.Schedule(random.NextInt64(0, _options.MaxThinkMs + 1), () => Issue(client));
        }

        _network.Schedule(_options.ClientTimeoutMs, () => Complete(OperationStatus.Indeterminate, "client timeout"));
        _network.Schedule(_options.MinDelayMs, () =>
        {
            bool accepted = node.Submit(() => node.ApplySetCommand(command, _options.WriteQuorum, outcome =>
                _network.Schedule(_options.MinDelayMs, () => Complete(outcome.Ok ? OperationStatus.Ok : OperationStatus.Indeterminate, outcome.Error))));
            if (!accepted)
            {
                Complete(OperationStatus.Failed, $"{node.Id} is down");
            }
        });
    }
}
