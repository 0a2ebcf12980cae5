using System.IO.Hashing;
using System.Text;
using Xunit;

namespace Dynamite.Core.Tests;

/// <summary>Pins XXH64 to the reference implementation's outputs: placement and persisted data depend on it.</summary>
public sealed class XxHash64Tests
{
    [Theory]
    [InlineData("", 0xEF46DB3751D8E999UL)]
    [InlineData("a", 0xD24EC4F1A98C6E5BUL)]
    [InlineData("abc", 0x44BC2CF5AD770999UL)]
    [InlineData("Nobody inspects the spammish repetition", 0xFBCEA83C8A378BF1UL)]
    public void Hash_ReferenceVectors_MatchReferenceImplementation(string input, ulong expected)
    {
        Assert.Equal(expected, XxHash64.HashToUInt64(Encoding.ASCII.GetBytes(input)));
    }

    [Fact]
    public void Hash_EveryLengthUpTo100_IsStableAndDistinct()
    {
        byte[] data = [.. Enumerable.Range(0, 100).Select(i => (byte)(i * 7))];
        var seen = new HashSet<ulong>();
        for (int length = 0; length <= data.Length; length++)
        {
            ulong hash = XxHash64.HashToUInt64(data.AsSpan(0, length));
            Assert.Equal(hash, XxHash64.HashToUInt64(data.AsSpan(0, length).ToArray()));
            Assert.True(seen.Add(hash), $"length {length} collided");
        }
    }
}
