using Dynamite.Core.Membership;
using Dynamite.Core.Versioning;
using FsCheck;
using FsCheck.Fluent;

namespace Dynamite.Core.Tests.Versioning;

/// <summary>
/// FsCheck generators for the versioning laws. Vectors use nodes a..e and counters 0..20; a dot's
/// timestamp is a function of the dot, as in a real cluster where each event is stamped once.
/// Objects come from random histories of updates and merges over three simulated replicas, the
/// way real objects arise, so they share one consistent universe of dots.
/// </summary>
public static class VersioningArbitraries
{
    internal static readonly NodeId[] Nodes = [new("a"), new("b"), new("c"), new("d"), new("e")];

    public static Arbitrary<VersionVector> VersionVectors() =>
        Arb.From(Gen.ArrayOf(Gen.Choose(0, 20), Nodes.Length).Select(ToVector));

    public static Arbitrary<ObjectTriple> ObjectTriples() =>
        Arb.From(Gen.ArrayOf(Gen.Choose(0, 1_000_000)).Select(Simulate));

    internal static long TimestampOf(NodeId node, long counter) => (counter * 1000) + node.Value[0];

    /// <summary>Replays a history of operations over replicas a, b and c; returns three objects it passed through.</summary>
    internal static ObjectTriple Simulate(int[] script)
    {
        var replicas = new[] { VersionedObject.Empty, VersionedObject.Empty, VersionedObject.Empty };
        var history = new List<VersionedObject> { VersionedObject.Empty };
        long clock = 1_700_000_000_000;
        foreach (int x in script)
        {
            int kind = x % 4;
            int i = x / 4 % 3;
            int j = x / 12 % 3;
            int v = x / 36 % 5;

            // Half the steps do not advance the clock, so last-writer-wins meets timestamp ties.
            clock += x / 180 % 2;
            byte[]? value = v == 0 ? null : [(byte)v, (byte)(x % 251)];
            switch (kind)
            {
                case 0:
                case 1:
                    // A client read replica j and writes through replica i.
                    replicas[i] = replicas[i].Update(replicas[j].Context, Nodes[i], value, clock, v == 4 ? clock + 1000 : 0);
                    break;
                case 2:
                    // A client writes with a stale context it read earlier (possibly none).
                    VersionVector stale = history[x / 360 % history.Count].Context;
                    replicas[i] = replicas[i].Update(stale, Nodes[i], value, clock, 0);
                    break;
                default:
                    replicas[i] = replicas[i].Merge(replicas[j]);
                    break;
            }

            history.Add(replicas[i]);
        }

        int pick = script.Length == 0 ? 0 : script[0];
        return new ObjectTriple(
            history[pick % history.Count],
            history[pick / 7 % history.Count],
            replicas[pick / 49 % 3]);
    }

    private static VersionVector ToVector(int[] counters)
    {
        var entries = new List<VersionVectorEntry>();
        for (int i = 0; i < counters.Length; i++)
        {
            if (counters[i] > 0)
            {
                entries.Add(new VersionVectorEntry(Nodes[i], counters[i], TimestampOf(Nodes[i], counters[i])));
            }
        }

        return VersionVector.FromEntries(entries);
    }
}
