using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands.SortedSetOperations;

/// <summary>What a <see cref="SortedSetAlgebraRead"/> computes.</summary>
internal enum SortedSetAlgebra
{
    /// <summary>ZUNION, ZUNIONSTORE.</summary>
    Union,

    /// <summary>ZINTER, ZINTERSTORE, ZINTERCARD.</summary>
    Intersection,

    /// <summary>ZDIFF, ZDIFFSTORE.</summary>
    Difference,
}

/// <summary>How ZUNION and ZINTER combine the scores a member has in several inputs.</summary>
internal enum ScoreAggregate
{
    Sum,
    Min,
    Max,
}

/// <summary>
/// ZUNION, ZINTER, ZDIFF and ZINTERCARD over their inputs, with redis-server's rules: an input may be a sorted set or a
/// set (whose members score 1), a missing one is empty, one of another type is WRONGTYPE; each score is multiplied by
/// its input's weight and aggregated (SUM, MIN, MAX), where a NaN (inf times 0, inf minus inf) counts as 0; the result
/// is ordered by score then member. The intersection and union walk the inputs from the smallest, as Redis does, so a
/// sum of floats adds in Redis's order. On a cluster node every input is read whole by quorum first
/// (<see cref="IMultiKeyElementReadOperation"/>).
/// </summary>
internal sealed class SortedSetAlgebraRead(SortedSetAlgebra algebra, byte[][] sources, double[]? weights, ScoreAggregate aggregate)
    : ITypedKeyOperation, IMultiKeyElementReadOperation
{
    public IReadOnlyList<byte[]> Keys => sources;

    public int TouchedKeyCount => sources.Length;

    public byte[] GetTouchedKey(int index) => sources[index];

    public bool WrongType { get; private set; }

    /// <summary>ZINTERCARD: count the intersection instead of collecting it, stopping at this many (0: no limit).</summary>
    public long? CountUpTo { get; init; }

    /// <summary>The result, by score then member (not for ZINTERCARD).</summary>
    public List<ScoredMember> Result { get; } = [];

    /// <summary>ZINTERCARD's answer.</summary>
    public long Cardinality { get; private set; }

    public void Execute(IStorageTransaction transaction)
    {
        Result.Clear();
        Cardinality = 0;
        WrongType = false;
        var inputs = new Input[sources.Length];
        for (int i = 0; i < sources.Length; i++)
        {
            if (!TryReadInput(transaction, sources[i], out Dictionary<byte[], double>? members))
            {
                WrongType = true;
                return;
            }

            inputs[i] = new Input(members ?? new Dictionary<byte[], double>(ByteArrayComparer.Instance), weights?[i] ?? 1);
        }

        var combined = algebra switch
        {
            SortedSetAlgebra.Union => Unite(inputs),
            SortedSetAlgebra.Intersection => Intersect(inputs),
            _ => Subtract(inputs),
        };
        if (CountUpTo is null)
        {
            foreach (KeyValuePair<byte[], double> member in combined)
            {
                Result.Add(new ScoredMember(member.Key, member.Value));
            }

            Result.Sort(ScoredMember.Compare);
        }
    }

    /// <summary>A sorted set's members with their scores, or a set's with score 1; false for another type.</summary>
    private static bool TryReadInput(IStorageTransaction transaction, byte[] key, out Dictionary<byte[], double>? members)
    {
        members = null;
        if (!transaction.TryRead(key, out StoredRecord record))
        {
            return true;
        }

        DataType type = record.IsTypedHeader ? TypedKeyRecord.TypeOf(record.Value) : DataType.String;
        if (type is not (DataType.SortedSet or DataType.Set))
        {
            return false;
        }

        members = new Dictionary<byte[], double>(ByteArrayComparer.Instance);
        foreach (StoredElement element in TypedKey.AllElements(transaction, key))
        {
            members[element.Name] = type == DataType.Set ? 1 : SortedSetScore.OfEncodedState(element.Value);
        }

        return true;
    }

    private static double Weighted(double score, double weight)
    {
        double value = score * weight;
        return double.IsNaN(value) ? 0 : value;
    }

    private double Aggregate(double target, double value)
    {
        switch (aggregate)
        {
            case ScoreAggregate.Min:
                return value < target ? value : target;
            case ScoreAggregate.Max:
                return value > target ? value : target;
            default:
                double sum = target + value;
                return double.IsNaN(sum) ? 0 : sum;
        }
    }

    private static Input[] BySize(Input[] inputs)
    {
        Input[] ordered = [.. inputs];
        // Stable, as far as equal sizes go, so the aggregation order is the arguments'.
        return [.. ordered.OrderBy(static input => input.Members.Count)];
    }

    private Dictionary<byte[], double> Unite(Input[] inputs)
    {
        var result = new Dictionary<byte[], double>(ByteArrayComparer.Instance);
        foreach (Input input in BySize(inputs))
        {
            foreach (KeyValuePair<byte[], double> member in input.Members)
            {
                double value = Weighted(member.Value, input.Weight);
                result[member.Key] = result.TryGetValue(member.Key, out double existing) ? Aggregate(existing, value) : value;
            }
        }

        return result;
    }

    private Dictionary<byte[], double> Intersect(Input[] inputs)
    {
        var result = new Dictionary<byte[], double>(ByteArrayComparer.Instance);
        Input[] ordered = BySize(inputs);
        foreach (KeyValuePair<byte[], double> member in ordered[0].Members)
        {
            double score = Weighted(member.Value, ordered[0].Weight);
            bool everywhere = true;
            for (int j = 1; j < ordered.Length && everywhere; j++)
            {
                everywhere = ordered[j].Members.TryGetValue(member.Key, out double other);
                if (everywhere)
                {
                    score = Aggregate(score, other * ordered[j].Weight);
                }
            }

            if (!everywhere)
            {
                continue;
            }

            if (CountUpTo is { } limit)
            {
                if (++Cardinality == limit)
                {
                    break;
                }

                continue;
            }

            result[member.Key] = score;
        }

        return result;
    }

    private static Dictionary<byte[], double> Subtract(Input[] inputs)
    {
        var result = new Dictionary<byte[], double>(ByteArrayComparer.Instance);
        foreach (KeyValuePair<byte[], double> member in inputs[0].Members)
        {
            bool elsewhere = false;
            for (int j = 1; j < inputs.Length && !elsewhere; j++)
            {
                elsewhere = inputs[j].Members.ContainsKey(member.Key);
            }

            if (!elsewhere)
            {
                result[member.Key] = member.Value;
            }
        }

        return result;
    }

    private readonly record struct Input(Dictionary<byte[], double> Members, double Weight);
}
