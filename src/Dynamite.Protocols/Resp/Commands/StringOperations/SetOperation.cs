using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp.Commands.StringOperations;

/// <summary>SET and its variants: conditional write, returning the old value.</summary>
internal sealed class SetOperation(byte[] key, byte[] value, SetCondition condition, ExpirySpec expiry, bool returnsOldValue) : IStorageOperation
{
    public bool IsBlindWrite => condition == SetCondition.None && expiry.Kind != ExpiryKind.Keep && !returnsOldValue;

    public int TouchedKeyCount => 1;

    public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

    public bool Applied { get; private set; }

    public byte[]? OldValue { get; private set; }

    /// <summary>SET ... GET on a key holding a hash: nothing changed (Redis answers WRONGTYPE).</summary>
    public bool WrongType { get; private set; }

    public void Execute(IStorageTransaction transaction)
    {
        bool exists = transaction.TryRead(key, out StoredRecord current);
        if (exists && current.IsTypedHeader && returnsOldValue)
        {
            WrongType = true;
            return;
        }

        OldValue = exists ? current.Value : null;
        if ((condition == SetCondition.IfAbsent && exists) || (condition == SetCondition.IfExists && !exists))
        {
            return;
        }

        if (exists && current.IsTypedHeader)
        {
            // SET replaces a hash (Redis semantics): its elements go in the same write.
            transaction.DeleteAllElements(key);
        }

        transaction.Write(key, new StoredRecord(value, expiry.Resolve(transaction.NowUnixMs, exists ? current.ExpiresAtUnixMs : 0)));
        Applied = true;
    }
}
