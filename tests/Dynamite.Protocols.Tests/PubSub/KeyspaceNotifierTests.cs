using Dynamite.Protocols.Resp.PubSub;
using Xunit;

namespace Dynamite.Protocols.Tests.PubSub;

public sealed class KeyspaceNotifierTests
{
    [Theory]
    [InlineData("KEA", "AKE")]
    [InlineData("Kg$", "g$K")]
    [InlineData("Ex", "xE")]
    [InlineData("AKEmn", "AKEmn")]
    [InlineData("Kshz", "shzK")]
    public void Setting_ParsesRedisLetters_AndWritesThemAsRedisServerDoes(string value, string canonical)
    {
        var notifier = new KeyspaceNotifier(new PubSubHub(() => 0));
        notifier.Classes = KeyspaceNotifier.Parse(value)!.Value;
        Assert.Equal(canonical, notifier.Setting);
        Assert.True(notifier.Enabled);
    }

    [Fact]
    public void ClassesWithoutKOrE_PublishNothing_AndAnUnknownLetterIsRefused()
    {
        var notifier = new KeyspaceNotifier(new PubSubHub(() => 0)) { Classes = KeyspaceNotifier.Parse("g$")!.Value };
        Assert.False(notifier.Enabled);
        Assert.Equal("", notifier.Setting);
        Assert.Null(KeyspaceNotifier.Parse("KEQ"));
    }
}
