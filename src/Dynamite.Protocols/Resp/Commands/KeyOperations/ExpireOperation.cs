using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands.KeyOperations;

/// <summary>EXPIRE's NX, XX, GT and LT options, and PERSIST.</summary>
[Flags]
internal enum ExpireCondition
{
    None = 0,
    IfNoExpiry = 1,
    IfExpiry = 2,
    IfGreater = 4,
    IfLess = 8,
    Persist = 16,
}

/// <summary>The EXPIRE family and PERSIST, with EXPIRE's NX/XX/GT/LT conditions (no expiry counts as infinite).</summary>
internal sealed class ExpireOperation(byte[] key, ExpirySpec expiry, ExpireCondition condition, NodeId actor) : IStorageOperation
{
    public int TouchedKeyCount => 1;

    public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

    public bool Changed { get; private set; }

    public void Execute(IStorageTransaction transaction)
    {
        if (!transaction.TryRead(key, out StoredRecord current))
        {
            return;
        }

        if (condition == ExpireCondition.Persist)
        {
            if (current.HasExpiry)
            {
                transaction.Write(key, TypedKey.WithExpiry(current, 0, transaction.NowUnixMs, actor));
                Changed = true;
            }

            return;
        }

        long when = expiry.Resolve(transaction.NowUnixMs, current.ExpiresAtUnixMs);
        bool hasExpiry = current.HasExpiry;
        if (((condition & ExpireCondition.IfNoExpiry) != 0 && hasExpiry)
            || ((condition & ExpireCondition.IfExpiry) != 0 && !hasExpiry)
            || ((condition & ExpireCondition.IfGreater) != 0 && (!hasExpiry || when <= current.ExpiresAtUnixMs))
            || ((condition & ExpireCondition.IfLess) != 0 && hasExpiry && when >= current.ExpiresAtUnixMs))
        {
            return;
        }

        if (when <= transaction.NowUnixMs)
        {
            transaction.Delete(key);
        }
        else
        {
            transaction.Write(key, TypedKey.WithExpiry(current, when, transaction.NowUnixMs, actor));
        }

        Changed = true;
    }
}
