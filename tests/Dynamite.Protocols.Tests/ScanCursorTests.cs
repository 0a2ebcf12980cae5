using Dynamite.Protocols.Resp;
using Xunit;

namespace Dynamite.Protocols.Tests;

public sealed class ScanCursorTests
{
    [Theory]
    [InlineData(0UL)]
    [InlineData(1UL)]
    [InlineData(4UL)]
    [InlineData(0x8000_0000_0000_0000UL)]
    [InlineData(ulong.MaxValue)]
    public void Encode_AnyHash_FitsSignedInt64AndResumesAtOrBefore(ulong hash)
    {
        ulong cursor = ScanCursor.Encode(hash);
        Assert.InRange(cursor, 1UL, (ulong)long.MaxValue);
        Assert.True(ScanCursor.TryDecode(cursor, out ulong resumeAt));
        Assert.True(resumeAt <= hash, "resuming after the hash would skip keys");
        Assert.True(hash - resumeAt < 4, "resuming far before the hash would repeat many keys");
    }

    [Fact]
    public void Encode_CompletedScan_IsZero() => Assert.Equal(0UL, ScanCursor.Encode(null));

    [Fact]
    public void TryDecode_Zero_StartsAtTheBeginning()
    {
        Assert.True(ScanCursor.TryDecode(0, out ulong from));
        Assert.Equal(0UL, from);
    }

    [Fact]
    public void TryDecode_BeyondTheHashSpace_ReportsComplete() => Assert.False(ScanCursor.TryDecode(ulong.MaxValue, out _));
}
