using System.Text;
using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Core.Versioning;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands.HashOperations;

/// <summary>
/// HINCRBY and HINCRBYFLOAT on a standalone node, one atomic operation on one field. HINCRBY is a counter write
/// (docs/DATA-TYPES.md, "Counters"): the node's chain on the field is continued (its earlier write superseded) or a
/// new chain begun, on top of the field's register value, so the cluster step merges concurrent increments without
/// loss. HINCRBYFLOAT computes as redis-server does (80-bit long double) and writes the result as a register, as
/// Redis stores it: a string. Errors are Redis's, and leave everything unchanged. On a cluster node the same change is
/// built as a delta from the coordinating primary's state (<see cref="BuildDelta"/>), and the reply is the value that
/// state holds after the increment.
/// </summary>
internal sealed class HashIncrementOperation(byte[] key, byte[] field, long delta, ExtendedFloat? floatDelta, NodeId actor) : IStorageOperation, IKeyDeltaOperation
{
    public int TouchedKeyCount => 1;

    public byte[] Key => key;

    public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

    public string? Error { get; private set; }

    public long Result { get; private set; }

    public byte[]? FloatResult { get; private set; }

    public void Execute(IStorageTransaction transaction)
    {
        Error = null;
        if (!TypedKey.TryOpen(transaction, key, DataType.Hash, out TypedKeyRecord? hash))
        {
            Error = RespErrors.WrongType;
            return;
        }

        ElementState? state = hash is null ? null : TypedKey.ReadElement(transaction, key, field);
        if (floatDelta is { } by)
        {
            IncrementFloat(transaction, hash, state, by);
        }
        else
        {
            Increment(transaction, hash, state);
        }
    }

    public KeyDelta? BuildDelta(IStorageTransaction transaction, NodeId coordinator)
    {
        Error = null;
        KeyDeltaBuilder? builder = KeyDeltaBuilder.Open(transaction, key, DataType.Hash, coordinator);
        if (builder is null)
        {
            Error = RespErrors.WrongType;
            return null;
        }

        ElementState current = builder.Read(field);
        ElementState? state = current.IsPresent ? current : null;
        if (floatDelta is { } by)
        {
            if (TryAddFloat(state, by) is { } sum)
            {
                builder.Assign(field, sum);
            }
        }
        else if (TryAdd(state))
        {
            builder.IncrementOrRestate(field, delta, Result);
        }

        return builder.Build();
    }

    public void AfterJoin(IStorageTransaction transaction)
    {
    }

    /// <summary>Sets <see cref="Result"/> to the field's value plus the increment; false with <see cref="Error"/> when Redis refuses it.</summary>
    private bool TryAdd(ElementState? state)
    {
        long current = 0;
        if (state is not null && !RespNumbers.TryParseInt64(HashKey.Render(state), out current))
        {
            Error = "ERR hash value is not an integer";
            return false;
        }

        if (!RedisIntegers.TryAdd(current, delta, out long sum))
        {
            Error = RespErrors.Overflow;
            return false;
        }

        Result = sum;
        return true;
    }

    /// <summary>Sets <see cref="FloatResult"/> to the field's value plus <paramref name="by"/> and returns it; null with <see cref="Error"/> when Redis refuses it.</summary>
    private byte[]? TryAddFloat(ElementState? state, ExtendedFloat by)
    {
        ExtendedFloat current = ExtendedFloat.Zero;
        if (state is not null && !ExtendedFloat.TryParse(HashKey.Render(state), out current))
        {
            Error = "ERR hash value is not a float";
            return null;
        }

        ExtendedFloat sum = ExtendedFloat.Add(current, by);
        if (sum.IsInfinity)
        {
            Error = RespErrors.NaNOrInfinity;
            return null;
        }

        FloatResult = Encoding.ASCII.GetBytes(sum.ToHumanString());
        return FloatResult;
    }

    private void Increment(IStorageTransaction transaction, TypedKeyRecord? hash, ElementState? state)
    {
        if (!TryAdd(state))
        {
            return;
        }

        hash ??= TypedKey.Create(transaction, key, DataType.Hash, actor);
        Dot dot = hash.Header.Context.NextDot(actor);
        ElementState updated;
        try
        {
            updated = Continue(state, dot, transaction.NowUnixMs);
        }
        catch (OverflowException)
        {
            // A grow-only total left 64 bits (increments and decrements of extreme sizes): restate the value as a
            // register, which supersedes the chains; the value is the same.
            updated = ElementState.Of([new ElementWrite(dot, transaction.NowUnixMs, Encoding.ASCII.GetBytes(Result.ToString(System.Globalization.CultureInfo.InvariantCulture)))]);
        }

        transaction.WriteElement(key, field, updated.Encode());
        long count = hash.ElementCount + (state is null ? 1 : 0);
        TypedKey.Save(transaction, key, new TypedKeyRecord(hash.Header.WithContext(hash.Header.Context.Add(dot)), count));
    }

    /// <summary>The field with the node's chain raised by <c>delta</c> under the new dot; the chain's earlier writes are superseded.</summary>
    private ElementState Continue(ElementState? state, Dot dot, long nowUnixMs)
    {
        if (state is null)
        {
            return ElementState.Of([new ElementWrite(dot, nowUnixMs, null, new CounterTotals(dot, 0, 0, 0, 0).Add(delta, 0))]);
        }

        (CounterTotals Totals, IReadOnlyList<Dot> Dots)? chain = state.CounterChainOf(actor);
        CounterTotals totals = chain is { } live ? live.Totals.Add(delta, 0) : new CounterTotals(dot, 0, 0, 0, 0).Add(delta, 0);
        var writes = new List<ElementWrite>(state.Writes.Length + 1);
        foreach (ElementWrite write in state.Writes)
        {
            if (chain is null || !chain.Value.Dots.Contains(write.Dot))
            {
                writes.Add(write);
            }
        }

        writes.Add(new ElementWrite(dot, nowUnixMs, null, totals));
        return ElementState.Of(writes, state.Resets);
    }

    private void IncrementFloat(IStorageTransaction transaction, TypedKeyRecord? hash, ElementState? state, ExtendedFloat by)
    {
        if (TryAddFloat(state, by) is not { } sum)
        {
            return;
        }

        hash ??= TypedKey.Create(transaction, key, DataType.Hash, actor);
        hash = TypedKey.WriteRegister(transaction, key, hash, field, sum, actor);
        TypedKey.Save(transaction, key, hash with { ElementCount = hash.ElementCount + (state is null ? 1 : 0) });
    }
}
