using System.Text;
using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp.Commands.StringOperations;

/// <summary>INCRBYFLOAT in emulated 80-bit long double, as redis-server computes it, keeping the expiry.</summary>
internal sealed class FloatIncrementOperation(byte[] key, ExtendedFloat delta) : IStorageOperation
{
    public int TouchedKeyCount => 1;

    public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

    public byte[]? Result { get; private set; }

    public string? Error { get; private set; }

    public void Execute(IStorageTransaction transaction)
    {
        ExtendedFloat current = ExtendedFloat.Zero;
        bool exists = transaction.TryRead(key, out StoredRecord record);
        if (exists && record.IsTypedHeader)
        {
            Error = RespErrors.WrongType;
            return;
        }

        if (exists && !ExtendedFloat.TryParse(record.Value, out current))
        {
            Error = RespErrors.NotFloat;
            return;
        }

        ExtendedFloat sum = ExtendedFloat.Add(current, delta);
        if (sum.IsInfinity)
        {
            Error = RespErrors.NaNOrInfinity;
            return;
        }

        Result = Encoding.ASCII.GetBytes(sum.ToHumanString());
        transaction.Write(key, new StoredRecord(Result, exists ? record.ExpiresAtUnixMs : 0));
    }
}
