using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp.Commands.StringOperations;

/// <summary>GETEX and GETDEL: read the value, then change its expiry or delete it.</summary>
internal sealed class GetExOperation(byte[] key, GetExAction action, ExpirySpec expiry) : IStorageOperation
{
    public int TouchedKeyCount => 1;

    public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

    public byte[]? Value { get; private set; }

    /// <summary>The key holds a hash: nothing changed.</summary>
    public bool WrongType { get; private set; }

    public void Execute(IStorageTransaction transaction)
    {
        if (!transaction.TryRead(key, out StoredRecord current))
        {
            return;
        }

        if (current.IsTypedHeader)
        {
            WrongType = true;
            return;
        }

        Value = current.Value;
        long expiresAt = action switch
        {
            GetExAction.Persist => 0,
            GetExAction.Expire => expiry.Resolve(transaction.NowUnixMs, current.ExpiresAtUnixMs),
            _ => current.ExpiresAtUnixMs,
        };
        if (action == GetExAction.Delete || (expiresAt != 0 && expiresAt <= transaction.NowUnixMs))
        {
            transaction.Delete(key);
        }
        else if (expiresAt != current.ExpiresAtUnixMs)
        {
            transaction.Write(key, current with { ExpiresAtUnixMs = expiresAt });
        }
    }
}
