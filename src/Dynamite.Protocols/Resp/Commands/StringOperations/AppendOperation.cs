using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp.Commands.StringOperations;

/// <summary>APPEND (offset -1) and SETRANGE: splice bytes into the value, keeping its expiry.</summary>
internal sealed class AppendOperation(byte[] key, byte[] bytes, long offset, long maxValueBytes) : IStorageOperation
{
    public int TouchedKeyCount => 1;

    public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

    public long Length { get; private set; }

    public bool TooLarge { get; private set; }

    /// <summary>The key holds a hash: nothing changed.</summary>
    public bool WrongType { get; private set; }

    public void Execute(IStorageTransaction transaction)
    {
        bool exists = transaction.TryRead(key, out StoredRecord current);
        if (exists && current.IsTypedHeader)
        {
            WrongType = true;
            return;
        }

        byte[] old = exists ? current.Value : [];
        if (bytes.Length == 0 && (exists || offset >= 0))
        {
            // Nothing to write: report the length. (APPEND of "" to a missing key creates "", as in Redis.)
            Length = old.Length;
            return;
        }

        long start = offset < 0 ? old.Length : offset;
        // Compared without adding first: an offset near long.MaxValue must be too large, not overflow to a small length.
        if (start > maxValueBytes - bytes.Length || old.Length > maxValueBytes)
        {
            TooLarge = true;
            return;
        }

        long newLength = Math.Max(old.Length, start + bytes.Length);
        byte[] updated = new byte[newLength];
        old.CopyTo(updated, 0);
        bytes.CopyTo(updated, start);
        transaction.Write(key, new StoredRecord(updated, exists ? current.ExpiresAtUnixMs : 0));
        Length = newLength;
    }
}
