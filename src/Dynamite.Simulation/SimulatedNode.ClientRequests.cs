using System.Text;
using Dynamite.Cluster.Node;
using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Quorum;
using Dynamite.Core.Versioning;

namespace Dynamite.Simulation;

/// <summary>The client requests a simulated node serves: each runs through its production coordinator, as a front end's would.</summary>
public sealed partial class SimulatedNode
{
    /// <summary>A quorum read at R = <paramref name="r"/> through this node's coordinator.</summary>
    public void Get(string key, int r, Action<ReadOutcome> done)
    {
        ArgumentNullException.ThrowIfNull(done);
        InProcess(() => _ = GetAsync(key, r, done));
    }

    /// <summary>
    /// A quorum write at W = <paramref name="w"/> through this node's coordinator (which forwards it when this node
    /// holds no replica). A null <paramref name="context"/> supersedes whatever the coordinating replica holds (a plain SET).
    /// </summary>
    public void Put(string key, VersionVector? context, string value, int w, Action<WriteOutcome> done)
    {
        ArgumentNullException.ThrowIfNull(done);
        InProcess(() => _ = PutAsync(key, context, value, w, done));
    }

    /// <summary>
    /// A typed key's command (a set's <c>SADD</c> or <c>SREM</c>, a counter's <c>INCRBY</c>) at W = <paramref name="w"/>,
    /// coordinated by this node (which refuses it unless it is a primary of the key).
    /// </summary>
    public void ApplySetCommand(IKeyDeltaOperation command, int w, Action<SetCommandOutcome> done)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(done);
        InProcess(() => _ = AnswerAsync(
            Encoding.UTF8.GetString(command.Key),
            async runtime =>
            {
                await runtime.Coordinator.ApplyDeltaAsync(command, ConsistencyLevel.Explicit(_options.ReadQuorum, w));
                return new SetCommandOutcome(true, null);
            },
            error => new SetCommandOutcome(false, error),
            done));
    }

    /// <summary>
    /// Every member of the typed set <paramref name="key"/>, read at R = <paramref name="r"/> through this node's
    /// coordinator in pages of <paramref name="pageSize"/> (SMEMBERS as a cluster answers it).
    /// </summary>
    public void ReadTypedSet(string key, int r, int pageSize, Action<TypedReadOutcome> done)
    {
        ArgumentNullException.ThrowIfNull(done);
        InProcess(() => _ = AnswerAsync(
            key,
            async runtime =>
            {
                var members = new List<string>();
                byte[]? after = null;
                do
                {
                    TypedReadJoin page = await runtime.Coordinator.ReadElementsAsync(
                        Encoding.UTF8.GetBytes(key), ElementSelection.Page(after, pageSize), ConsistencyLevel.Explicit(r, _options.WriteQuorum));
                    members.AddRange(page.Elements.Select(e => Encoding.UTF8.GetString(e.Key)));
                    after = page.ResumeAfter;
                }
                while (after is not null);
                return new TypedReadOutcome(true, members, null);
            },
            error => new TypedReadOutcome(false, [], error),
            done));
    }

    private Task GetAsync(string key, int r, Action<ReadOutcome> done) =>
        AnswerAsync(
            key,
            async runtime => new ReadOutcome(true, await runtime.Coordinator.GetAsync(Encoding.UTF8.GetBytes(key), ConsistencyLevel.Explicit(r, _options.WriteQuorum)), null),
            ReadOutcome.Failed,
            done);

    private Task PutAsync(string key, VersionVector? context, string value, int w, Action<WriteOutcome> done) =>
        AnswerAsync(
            key,
            async runtime =>
            {
                byte[] bytes = Encoding.UTF8.GetBytes(value);
                VersionedObject written = await runtime.Coordinator.PutAsync(Encoding.UTF8.GetBytes(key), context, bytes, 0, ConsistencyLevel.Explicit(_options.ReadQuorum, w));

                // A forwarded write comes back without the object; its dot is found from the ledger then.
                return new WriteOutcome(true, written.Siblings.FirstOrDefault(s => s.Value is not null && s.Value.AsSpan().SequenceEqual(bytes))?.Dot, null);
            },
            WriteOutcome.Failed,
            done);

    /// <summary>
    /// Runs one client operation against the live runtime and hands its outcome to the client: a quorum not reached
    /// is an answer; any other exception is not one a client of a healthy runtime may get, and the run reports it.
    /// </summary>
    private async Task AnswerAsync<TOutcome>(string key, Func<ClusterNode, Task<TOutcome>> operation, Func<string, TOutcome> failed, Action<TOutcome> done)
    {
        TOutcome outcome;
        try
        {
            outcome = await operation(_runtime ?? throw new StoreUnavailableException($"{Id} is down"));
        }
        catch (StoreUnavailableException exception)
        {
            outcome = failed($"{Id}: {exception.Message}");
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            _cluster.Network.ReportUnexpected($"{Id} {key}: {exception}");
            outcome = failed($"{Id}: {exception.Message}");
        }

        done(outcome);
    }
}
