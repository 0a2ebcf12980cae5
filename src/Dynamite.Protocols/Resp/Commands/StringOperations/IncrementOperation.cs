using System.Globalization;
using System.Text;
using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;

namespace Dynamite.Protocols.Resp.Commands.StringOperations;

/// <summary>
/// INCR, DECR, INCRBY, DECRBY: integer arithmetic on the value, keeping its expiry. On a standalone node, one atomic
/// read-add-write of the string. On a cluster node, a counter write (docs/DATA-TYPES.md, "Counters"; <see
/// cref="BuildDelta"/>): the key becomes a typed string whose one element (named by the empty string) carries the
/// coordinating node's counter chain on top of a register (the value a <c>SET</c> left), so increments through any
/// nodes all count; the reply is the coordinating replica's value after the increment.
/// </summary>
internal sealed class IncrementOperation(byte[] key, long delta) : IStorageOperation, IKeyDeltaOperation
{
    /// <summary>A string's one element.</summary>
    private static readonly byte[] ValueElement = [];

    public int TouchedKeyCount => 1;

    public byte[] Key => key;

    public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

    public long Result { get; private set; }

    public string? Error { get; private set; }

    public void Execute(IStorageTransaction transaction)
    {
        Error = null;
        bool exists = transaction.TryRead(key, out StoredRecord record);
        if (exists && record.IsTypedHeader)
        {
            Error = RespErrors.WrongType;
            return;
        }

        if (TryAdd(exists ? record.Value : null))
        {
            transaction.Write(key, new StoredRecord(Encoding.ASCII.GetBytes(Result.ToString(CultureInfo.InvariantCulture)), exists ? record.ExpiresAtUnixMs : 0));
        }
    }

    public KeyDelta? BuildDelta(IStorageTransaction transaction, NodeId coordinator)
    {
        Error = null;
        KeyDeltaBuilder? builder = KeyDeltaBuilder.OpenString(transaction, key, coordinator, out byte[]? replaced, out long replacedExpiry);
        if (builder is null)
        {
            Error = RespErrors.WrongType;
            return null;
        }

        ElementState stored = builder.Read(ValueElement);
        if (!TryAdd(replaced ?? (stored.IsPresent ? ElementValue.Render(stored) : null)))
        {
            return null;
        }

        if (replaced is not null)
        {
            // The string SET left becomes the counter's register, its expiry the key's.
            builder.Assign(ValueElement, replaced);
            if (replacedExpiry != 0)
            {
                builder.SetExpiry(replacedExpiry);
            }
        }

        builder.IncrementOrRestate(ValueElement, delta, Result);
        return builder.Build();
    }

    public void AfterJoin(IStorageTransaction transaction)
    {
    }

    /// <summary>Sets <see cref="Result"/> to <paramref name="current"/> (null: 0) plus the increment; false with <see cref="Error"/> when Redis refuses it.</summary>
    private bool TryAdd(byte[]? current)
    {
        long value = 0;
        if (current is not null && !RespNumbers.TryParseInt64(current, out value))
        {
            Error = RespErrors.NotInteger;
            return false;
        }

        if (!RedisIntegers.TryAdd(value, delta, out long sum))
        {
            Error = RespErrors.Overflow;
            return false;
        }

        Result = sum;
        return true;
    }
}
