using System.Text;
using Dynamite.Cli.Bench;
using Xunit;

namespace Dynamite.Server.Tests.Bench;

public sealed class CommandTemplatesTests
{
    [Fact]
    public void Set_And_Get_AreExactRespCommands_WithTheKeyWrittenIn()
    {
        var templates = new CommandTemplates(valueSize: 5);
        var buffer = new byte[256];
        int length = templates.Write(buffer, read: false, key: 12_345);
        Assert.Equal("*3\r\n$3\r\nSET\r\n$16\r\nkey:000000012345\r\n$5\r\nxxxxx\r\n", Encoding.ASCII.GetString(buffer, 0, length));
        length = templates.Write(buffer, read: true, key: 999_999_999_999);
        Assert.Equal("*2\r\n$3\r\nGET\r\n$16\r\nkey:999999999999\r\n", Encoding.ASCII.GetString(buffer, 0, length));
        Assert.Equal("key:000000000007", CommandTemplates.KeyName(7));
    }

    [Fact]
    public void LargeValue_HasItsLengthAndTerminator()
    {
        var templates = new CommandTemplates(valueSize: 139_000);
        var buffer = new byte[templates.Set.Length];
        int length = templates.Write(buffer, read: false, key: 1);
        string text = Encoding.ASCII.GetString(buffer, 0, length);
        Assert.StartsWith("*3\r\n$3\r\nSET\r\n$16\r\nkey:000000000001\r\n$139000\r\nxxx", text, StringComparison.Ordinal);
        Assert.EndsWith("xx\r\n", text, StringComparison.Ordinal);
        Assert.Equal(text.IndexOf("$139000\r\n", StringComparison.Ordinal) + 9 + 139_000 + 2, length);
    }

    [Theory]
    [InlineData("127.0.0.1:6379", "127.0.0.1", 6379)]
    [InlineData(" localhost:8102 ", "localhost", 8102)]
    [InlineData("[::1]:8102", "::1", 8102)]
    public void Target_Parses(string text, string host, int port) => Assert.Equal(new BenchTarget(host, port), BenchTarget.Parse(text));

    [Theory]
    [InlineData("localhost")]
    [InlineData(":80")]
    [InlineData("host:")]
    [InlineData("host:0")]
    [InlineData("host:70000")]
    [InlineData("host:-1")]
    public void BadTarget_IsRefused(string text) => Assert.Throws<BenchException>(() => BenchTarget.Parse(text));
}
