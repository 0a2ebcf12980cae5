using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp.Commands.StringOperations;

/// <summary>MSET and MSETNX: all pairs or none.</summary>
internal sealed class MultiSetOperation(KeyValuePair<byte[], byte[]>[] pairs, bool onlyIfNoneExist) : IStorageOperation
{
    public bool IsBlindWrite => !onlyIfNoneExist;

    public int TouchedKeyCount => pairs.Length;

    public byte[] GetTouchedKey(int index) => pairs[index].Key;

    public bool Applied { get; private set; }

    public void Execute(IStorageTransaction transaction)
    {
        if (onlyIfNoneExist)
        {
            foreach (KeyValuePair<byte[], byte[]> pair in pairs)
            {
                if (transaction.TryRead(pair.Key, out _))
                {
                    return;
                }
            }
        }

        foreach (KeyValuePair<byte[], byte[]> pair in pairs)
        {
            if (transaction.TryRead(pair.Key, out StoredRecord current) && current.IsTypedHeader)
            {
                // MSET replaces a hash as SET does: its elements go in the same write.
                transaction.DeleteAllElements(pair.Key);
            }

            transaction.Write(pair.Key, new StoredRecord(pair.Value, 0));
        }

        Applied = true;
    }
}
