using Dynamite.Core.Versioning;
using FsCheck.Xunit;
using Xunit;

namespace Dynamite.Core.Tests.Versioning;

public sealed class ContextTokenTests
{
    [Property(Arbitrary = [typeof(VersioningArbitraries)], MaxTest = 300)]
    public bool Encode_ThenParse_RoundTrips(VersionVector context)
    {
        string token = ContextToken.Encode(context);
        return ContextToken.Parse(token).Equals(context)
            && !token.Contains('+', StringComparison.Ordinal)
            && !token.Contains('/', StringComparison.Ordinal)
            && !token.Contains('=', StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("!!!")]
    [InlineData("AA")]
    [InlineData("AQE")]
    [InlineData("AQA-")]
    [InlineData("AQAA")]
    public void Parse_BadToken_ThrowsFormatException(string token)
    {
        Assert.Throws<FormatException>(() => ContextToken.Parse(token));
        Assert.False(ContextToken.TryParse(token, out VersionVector parsed));
        Assert.Same(VersionVector.Empty, parsed);
    }

    [Fact]
    public void Parse_TooLong_ThrowsFormatException()
    {
        Assert.Throws<FormatException>(() => ContextToken.Parse(new string('A', ContextToken.MaxTokenLength + 1)));
    }
}
