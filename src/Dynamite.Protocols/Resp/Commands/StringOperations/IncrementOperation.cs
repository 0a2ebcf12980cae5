using System.Text;
using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp.Commands.StringOperations;

/// <summary>INCR, DECR, INCRBY, DECRBY: integer arithmetic on the value, keeping its expiry.</summary>
internal sealed class IncrementOperation(byte[] key, long delta) : IStorageOperation
{
    public int TouchedKeyCount => 1;

    public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

    public long Result { get; private set; }

    public string? Error { get; private set; }

    public void Execute(IStorageTransaction transaction)
    {
        long current = 0;
        bool exists = transaction.TryRead(key, out StoredRecord record);
        if (exists && record.IsTypedHeader)
        {
            Error = RespErrors.WrongType;
            return;
        }

        if (exists && !RespNumbers.TryParseInt64(record.Value, out current))
        {
            Error = RespErrors.NotInteger;
            return;
        }

        if ((delta < 0 && current < 0 && delta < long.MinValue - current) || (delta > 0 && current > 0 && delta > long.MaxValue - current))
        {
            Error = RespErrors.Overflow;
            return;
        }

        Result = current + delta;
        transaction.Write(key, new StoredRecord(Encoding.ASCII.GetBytes(Result.ToString(System.Globalization.CultureInfo.InvariantCulture)), exists ? record.ExpiresAtUnixMs : 0));
    }
}
