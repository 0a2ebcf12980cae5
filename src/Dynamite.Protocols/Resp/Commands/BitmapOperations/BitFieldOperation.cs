using Dynamite.Core.Bitmaps;
using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp.Commands.BitmapOperations;

/// <summary>
/// A BITFIELD with a SET or INCRBY: pads the string to hold every written field (creating it when absent), runs the
/// steps in order and writes the string back, keeping its expiry, when a field changed or the string was created or
/// grew. The write names the fields it set (<see cref="IStorageTransaction.WriteBits"/>) for a cluster's join.
/// </summary>
internal sealed class BitFieldOperation(byte[] key, BitFieldProgram program) : IStorageOperation
{
    public int TouchedKeyCount => 1;

    public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

    public bool WrongType { get; private set; }

    /// <summary>Per step, its reply; null for a SET or INCRBY that OVERFLOW FAIL refused.</summary>
    public long?[] Replies { get; private set; } = [];

    public void Execute(IStorageTransaction transaction)
    {
        bool exists = transaction.TryRead(key, out StoredRecord current);
        if (exists && current.IsTypedHeader)
        {
            WrongType = true;
            return;
        }

        byte[] old = exists ? current.Value : [];
        long needed = (program.HighestWrittenBit >> 3) + 1;
        bool grows = !exists || needed > old.Length;
        byte[] bytes = new byte[Math.Max(old.Length, needed)];
        old.CopyTo(bytes, 0);
        var written = new List<BitPatch>();
        Replies = program.Run(bytes, written, out bool changed);
        if (grows || changed)
        {
            transaction.WriteBits(key, new StoredRecord(bytes, exists ? current.ExpiresAtUnixMs : 0), BitPatches.Encode([.. written]));
        }
    }
}
