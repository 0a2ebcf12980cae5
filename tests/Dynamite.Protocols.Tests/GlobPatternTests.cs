using System.Text;
using Dynamite.Protocols.Resp;
using Xunit;

namespace Dynamite.Protocols.Tests;

public sealed class GlobPatternTests
{
    [Theory]
    [InlineData("*", "anything", true)]
    [InlineData("h?llo", "hello", true)]
    [InlineData("h?llo", "hllo", false)]
    [InlineData("h*llo", "heeeello", true)]
    [InlineData("h[ae]llo", "hallo", true)]
    [InlineData("h[ae]llo", "hillo", false)]
    [InlineData("h[^e]llo", "hallo", true)]
    [InlineData("h[^e]llo", "hello", false)]
    [InlineData("h[a-b]llo", "hbllo", true)]
    [InlineData("h[b-a]llo", "hallo", true)]
    [InlineData("h\\*llo", "h*llo", true)]
    [InlineData("h\\*llo", "hello", false)]
    [InlineData("user:*:name", "user:42:name", true)]
    [InlineData("user:*:name", "user:42:mail", false)]
    [InlineData("a*", "", false)]
    [InlineData("[abc", "a", true)]
    public void IsMatch_RedisGlobCases_MatchLikeStringmatchlen(string pattern, string text, bool expected)
    {
        Assert.Equal(expected, GlobPattern.IsMatch(Encoding.ASCII.GetBytes(pattern), Encoding.ASCII.GetBytes(text)));
    }

    [Fact]
    public void IsMatch_PathologicalPattern_FinishesQuickly()
    {
        string pattern = string.Concat(Enumerable.Repeat("a*", 30)) + "b";
        string text = new('a', 60);
        Assert.False(GlobPattern.IsMatch(Encoding.ASCII.GetBytes(pattern), Encoding.ASCII.GetBytes(text)));
    }

    [Fact]
    public void IsMatch_IgnoreCase_MatchesConfigNames()
    {
        Assert.True(GlobPattern.IsMatch("MAX*"u8, "maxclients"u8, ignoreCase: true));
    }
}
