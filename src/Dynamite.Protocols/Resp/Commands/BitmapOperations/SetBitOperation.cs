using Dynamite.Core.Bitmaps;
using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp.Commands.BitmapOperations;

/// <summary>
/// SETBIT key offset value: pads the string with zero bytes to reach the bit, sets or clears it and keeps the key's
/// expiry; writes nothing when the bit already has the value and the string did not grow. The write names the bit it
/// set (<see cref="IStorageTransaction.WriteBits"/>), so that on a cluster concurrent SETBITs of other bits survive.
/// </summary>
internal sealed class SetBitOperation(byte[] key, long bitOffset, bool on) : IStorageOperation
{
    public int TouchedKeyCount => 1;

    public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

    public bool WrongType { get; private set; }

    /// <summary>The bit's value before the command (SETBIT's reply).</summary>
    public bool WasOn { get; private set; }

    public void Execute(IStorageTransaction transaction)
    {
        bool exists = transaction.TryRead(key, out StoredRecord current);
        if (exists && current.IsTypedHeader)
        {
            WrongType = true;
            return;
        }

        byte[] old = exists ? current.Value : [];
        WasOn = BitField.GetBit(old, bitOffset);
        long needed = BitField.BytesToHold(bitOffset, 1);
        bool grows = !exists || needed > old.Length;
        if (!grows && WasOn == on)
        {
            return;
        }

        byte[] updated = new byte[Math.Max(old.Length, needed)];
        old.CopyTo(updated, 0);
        BitField.SetBit(updated, bitOffset, on);
        byte[] patch = BitPatches.Encode([new BitPatch(bitOffset, 1, on ? 1UL : 0UL)]);
        transaction.WriteBits(key, new StoredRecord(updated, exists ? current.ExpiresAtUnixMs : 0), patch);
    }
}
