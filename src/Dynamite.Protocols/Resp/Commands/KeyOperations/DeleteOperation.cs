using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp.Commands.KeyOperations;

/// <summary>DEL and UNLINK, and a STORE form's removal of its destination on a cluster: counts the keys that existed.</summary>
internal sealed class DeleteOperation(byte[][] keys) : IStorageOperation
{
    public int TouchedKeyCount => keys.Length;

    public byte[] GetTouchedKey(int index) => keys[index];

    public long Deleted { get; private set; }

    public void Execute(IStorageTransaction transaction)
    {
        foreach (byte[] key in keys)
        {
            if (transaction.TryRead(key, out _))
            {
                transaction.Delete(key);
                Deleted++;
            }
        }
    }
}
