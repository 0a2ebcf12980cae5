using Dynamite.Core.Bitmaps;
using Dynamite.Core.Membership;
using Dynamite.Core.Versioning;
using Xunit;

namespace Dynamite.Core.Tests.Bitmaps;

/// <summary>
/// The conflict rule of strings written by bit commands: concurrent bit writes through different coordinators join,
/// each write's own fields win over the other's stale copy of them, and a whole-value write keeps last-writer-wins.
/// </summary>
public sealed class BitmapSiblingsTests
{
    private static readonly NodeId A = new("a");
    private static readonly NodeId B = new("b");
    private static readonly NodeId C = new("c");

    [Fact]
    public void TryJoin_ConcurrentSetBitsOfDifferentBits_KeepsBoth()
    {
        VersionedObject shared = VersionedObject.Empty.Update(VersionVector.Empty, A, [0x80], 1_000, 0, Patch(0, 1));
        VersionedObject throughB = shared.Update(shared.Context, B, SetBit([0x80], 9), 2_000, 0, Patch(9, 1));
        VersionedObject throughC = shared.Update(shared.Context, C, SetBit([0x80], 3), 2_001, 0, Patch(3, 1));

        VersionedObject merged = throughB.Merge(throughC);

        Assert.Equal(2, merged.Siblings.Length);
        byte[]? joined = BitmapSiblings.TryJoin(merged.Siblings);
        Assert.NotNull(joined);
        Assert.True(BitField.GetBit(joined, 0));
        Assert.True(BitField.GetBit(joined, 3));
        Assert.True(BitField.GetBit(joined, 9));
        Assert.Equal(2, joined.Length);
        Assert.Equal(joined, BitmapSiblings.TryJoin(throughC.Merge(throughB).Siblings));
    }

    [Fact]
    public void TryJoin_SameBitSetAndClearedConcurrently_LaterWriteWins()
    {
        VersionedObject shared = VersionedObject.Empty.Update(VersionVector.Empty, A, [0x00], 1_000, 0, Patch(0, 0));
        VersionedObject set = shared.Update(shared.Context, B, [0x80], 2_000, 0, Patch(0, 1));
        VersionedObject cleared = set.Update(shared.Context, C, [0x00], 3_000, 0, Patch(0, 0));

        Assert.Equal(2, cleared.Siblings.Length);
        Assert.Equal([0x00], BitmapSiblings.TryJoin(cleared.Siblings));
    }

    [Fact]
    public void TryJoin_ConcurrentBitFieldSetsOfOneField_LaterWriteWins()
    {
        VersionedObject shared = VersionedObject.Empty.Update(VersionVector.Empty, A, [0x00, 0x00], 1_000, 0, Patch(0, 0));
        byte[] first = new byte[2];
        BitField.Write(first, 4, 8, 0xAB);
        byte[] second = new byte[2];
        BitField.Write(second, 4, 8, 0x15);
        VersionedObject one = shared.Update(shared.Context, B, first, 2_000, 0, BitPatches.Encode([new BitPatch(4, 8, 0xAB)]));
        VersionedObject both = one.Merge(shared.Update(shared.Context, C, second, 2_500, 0, BitPatches.Encode([new BitPatch(4, 8, 0x15)])));

        byte[]? joined = BitmapSiblings.TryJoin(both.Siblings);

        Assert.NotNull(joined);
        Assert.Equal(0x15UL, BitField.Read(joined, 4, 8));
    }

    [Fact]
    public void TryJoin_AWholeValueWriteAmongTheSiblings_LeavesLastWriterWins()
    {
        VersionedObject shared = VersionedObject.Empty.Update(VersionVector.Empty, A, [0x80], 1_000, 0, Patch(0, 1));
        VersionedObject bits = shared.Update(shared.Context, B, [0xC0], 2_000, 0, Patch(1, 1));
        VersionedObject plain = bits.Merge(shared.Update(shared.Context, C, "x"u8.ToArray(), 1_500, 0));

        Assert.Equal(2, plain.Siblings.Length);
        Assert.Null(BitmapSiblings.TryJoin(plain.Siblings));
    }

    [Fact]
    public void Encode_SiblingWithBitPatches_RoundTripsThem()
    {
        VersionedObject written = VersionedObject.Empty.Update(VersionVector.Empty, A, [0x10], 1_000, 5_000, Patch(3, 1));

        VersionedObject decoded = VersionedObject.Decode(written.Encode());

        Assert.Equal(written, decoded);
        Assert.Equal(Patch(3, 1), decoded.Siblings[0].BitPatches);
        Assert.NotEqual(written, VersionedObject.Empty.Update(VersionVector.Empty, A, [0x10], 1_000, 5_000));
    }

    [Fact]
    public void BitField_SignedFieldAcrossBytes_ReadsWhatWasWritten()
    {
        byte[] bytes = new byte[3];
        BitField.Write(bytes, 5, 12, unchecked((ulong)-100L) & 0xFFF);

        Assert.Equal(unchecked((ulong)-100L) & 0xFFF, BitField.Read(bytes, 5, 12));
        Assert.False(BitField.GetBit(bytes, 4));
        Assert.False(BitField.GetBit(bytes, 23));
    }

    private static byte[] Patch(long bit, int value) => BitPatches.Encode([new BitPatch(bit, 1, (ulong)value)]);

    private static byte[] SetBit(byte[] value, long bit)
    {
        byte[] copy = new byte[Math.Max(value.Length, BitField.BytesToHold(bit, 1))];
        value.CopyTo(copy, 0);
        BitField.SetBit(copy, bit, true);
        return copy;
    }
}
