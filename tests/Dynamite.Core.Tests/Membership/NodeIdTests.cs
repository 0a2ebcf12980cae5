using Dynamite.Core.Membership;
using Xunit;

namespace Dynamite.Core.Tests.Membership;

public sealed class NodeIdTests
{
    [Theory]
    [InlineData("")]
    [InlineData("a b")]
    [InlineData("tab\there")]
    [InlineData("nl\n")]
    public void Constructor_EmptyOrWhitespace_Throws(string value)
    {
        Assert.Throws<ArgumentException>(() => new NodeId(value));
    }

    [Fact]
    public void Constructor_Over64Utf8Bytes_Throws()
    {
        Assert.Throws<ArgumentException>(() => new NodeId(new string('x', 65)));
        Assert.Throws<ArgumentException>(() => new NodeId(new string('é', 33)));
        Assert.Equal(64, new NodeId(new string('é', 32)).Value.Length * 2);
    }

    [Fact]
    public void CompareTo_MixedCase_IsOrdinal()
    {
        Assert.True(new NodeId("B") < new NodeId("a"));
        Assert.True(new NodeId("node10") < new NodeId("node9"));
        Assert.Equal(0, new NodeId("x").CompareTo(new NodeId("x")));
    }

    [Fact]
    public void ToString_ReturnsValue()
    {
        Assert.Equal("node-1", new NodeId("node-1").ToString());
    }

    [Fact]
    public void NodeDescriptor_EmptyRack_Throws()
    {
        Assert.Throws<ArgumentException>(() => new NodeDescriptor(new NodeId("a"), "dc1", " "));
        Assert.Throws<ArgumentException>(() => new NodeDescriptor(default, "dc1", "r1"));
    }
}
