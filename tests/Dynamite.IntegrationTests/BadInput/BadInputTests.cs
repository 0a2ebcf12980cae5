using System.Text;
using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.BadInput;

/// <summary>
/// Every bad-input case of the limits list gets redis-server's error (or a silent close where redis-server
/// closes silently) while a bystander client, connected before, keeps being answered and the data stored
/// before stays intact. Limits are configured small so the cases run quickly.
/// </summary>
public sealed class BadInputTests(BadInputFixture fixture) : IClassFixture<BadInputFixture>
{
    private const string SentinelKey = "bad-input:sentinel";

    [Fact]
    public void MultibulkCount_OverLimit_ProtocolErrorAndClose()
    {
        AssertRejected("*1048577\r\n", "-ERR Protocol error: invalid multibulk length");
    }

    [Fact]
    public void MultibulkCount_NotANumber_ProtocolErrorAndClose()
    {
        AssertRejected("*abc\r\n", "-ERR Protocol error: invalid multibulk length");
    }

    [Fact]
    public void BulkLength_Negative_ProtocolErrorAndClose()
    {
        AssertRejected("*2\r\n$3\r\nGET\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length");
    }

    [Fact]
    public void BulkLength_OverProtoMaxBulkLen_ProtocolErrorAndClose()
    {
        AssertRejected($"*2\r\n$3\r\nGET\r\n${BadInputFixture.ProtoMaxBulkLen + 1}\r\n", "-ERR Protocol error: invalid bulk length");
    }

    [Fact]
    public void BulkMarker_Missing_ProtocolErrorAndClose()
    {
        AssertRejected("*1\r\n:5\r\n", "-ERR Protocol error: expected '$', got ':'");
    }

    [Fact]
    public void InlineRequest_Over64KiB_ProtocolErrorAndClose()
    {
        AssertRejected("SET k " + new string('x', 70 * 1024), "-ERR Protocol error: too big inline request");
    }

    [Fact]
    public void InlineRequest_UnbalancedQuotes_ProtocolErrorAndClose()
    {
        AssertRejected("SET \"k v\r\n", "-ERR Protocol error: unbalanced quotes in request");
    }

    [Fact]
    public void QueryBuffer_OverClientQueryBufferLimit_Disconnected()
    {
        using RawRespClient bystander = Bystander();
        using RawRespClient offender = fixture.Node.Connect();
        // Three bulk arguments, each within proto-max-bulk-len, add up to more than the query buffer limit;
        // the last one never completes, so the server must give up on the client rather than buffer on.
        var request = new StringBuilder();
        request.Append("*4\r\n$3\r\nSET\r\n");
        string chunk = new('q', (int)BadInputFixture.ProtoMaxBulkLen);
        for (int i = 0; i < 2; i++)
        {
            request.Append('$').Append(chunk.Length).Append("\r\n").Append(chunk).Append("\r\n");
        }

        // The third is declared whole but sent in half: a request the server could finish parsing (and answer with a
        // syntax error) would not test the limit.
        request.Append('$').Append(chunk.Length).Append("\r\n").Append(chunk, 0, chunk.Length / 2);

        try
        {
            offender.SendRaw(request.ToString());
        }
        catch (IOException)
        {
            // The server may close while we are still sending: that is the expected outcome too.
        }

        Assert.True(offender.IsClosedByServer(), "the client over the query buffer limit was not disconnected");
        AssertStillServing(bystander);
    }

    [Fact]
    public void Value_OverMaxValueSize_ErrorNothingStoredConnectionStays()
    {
        using RawRespClient bystander = Bystander();
        using RawRespClient client = fixture.Node.Connect();
        string tooLarge = new('v', (int)BadInputFixture.MaxValueSize + 1);
        const string Error = "-ERR string exceeds maximum allowed size (max-value-size)";
        Assert.Equal(Error, client.Call("SET", "bad-input:big", tooLarge).ToString());
        Assert.Equal(Error, client.Call("MSET", "bad-input:m1", "small", "bad-input:m2", tooLarge).ToString());
        Assert.Equal("+OK", client.Call("SET", "bad-input:append", new string('a', (int)BadInputFixture.MaxValueSize)).ToString());
        Assert.Equal(Error, client.Call("APPEND", "bad-input:append", "b").ToString());
        Assert.Equal(Error, client.Call("SETRANGE", "bad-input:range", BadInputFixture.MaxValueSize.ToString(System.Globalization.CultureInfo.InvariantCulture), "x").ToString());

        Assert.Equal(":0", client.Call("EXISTS", "bad-input:big", "bad-input:m1", "bad-input:m2", "bad-input:range").ToString());
        Assert.Equal($":{BadInputFixture.MaxValueSize}", client.Call("STRLEN", "bad-input:append").ToString());
        Assert.Equal("+PONG", client.Call("PING").ToString());
        AssertStillServing(bystander);
    }

    [Fact]
    public void HttpPost_LineAtStart_ClosedWithoutReply()
    {
        using RawRespClient bystander = Bystander();
        using RawRespClient attacker = fixture.Node.Connect();
        attacker.SendRaw("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 20\r\n\r\nSET bad-input:post x\r\n");
        Assert.True(attacker.IsClosedByServer(), "a POST line did not close the connection");
        AssertStillServing(bystander);
        Assert.Equal("$(nil)", bystander.Call("GET", "bad-input:post").ToString());
    }

    [Fact]
    public void HostHeader_Line_ClosedWithoutReply()
    {
        using RawRespClient bystander = Bystander();
        using RawRespClient attacker = fixture.Node.Connect();
        attacker.SendRaw("Host: example\r\nSET bad-input:host x\r\n");
        Assert.True(attacker.IsClosedByServer(), "a Host: line did not close the connection");
        AssertStillServing(bystander);
        Assert.Equal("$(nil)", bystander.Call("GET", "bad-input:host").ToString());
    }

    [Fact]
    public void BulkWithoutTerminator_HandledAsRedisServerDoes_OthersUnaffected()
    {
        // redis-server takes the declared length, skips the next two bytes whatever they are and parses
        // the rest as a new (inline) request; matching that keeps pipelined clients in step with Redis.
        using RawRespClient bystander = Bystander();
        using RawRespClient client = fixture.Node.Connect();
        client.SendRaw("*2\r\n$3\r\nGET\r\n$2\r\nabcdef\r\n");
        Assert.Equal("$(nil)", client.Read().ToString());
        Assert.Equal("-ERR unknown command 'ef', with args beginning with: ", client.Read().ToString());
        Assert.Equal("+PONG", client.Call("PING").ToString());
        AssertStillServing(bystander);
    }

    [Fact]
    public void UnknownCommand_ErrorAndConnectionStays()
    {
        using RawRespClient client = fixture.Node.Connect();
        Assert.Equal("-ERR unknown command 'FLY', with args beginning with: 'me' 'to' ", client.Call("FLY", "me", "to").ToString());
        Assert.Equal("+PONG", client.Call("PING").ToString());
    }

    private void AssertRejected(string bytes, string expectedError)
    {
        using RawRespClient bystander = Bystander();
        using RawRespClient offender = fixture.Node.Connect();
        offender.SendRaw(bytes);
        Assert.Equal(expectedError, offender.Read().ToString());
        Assert.True(offender.IsClosedByServer(), "the connection stayed open after a protocol error");
        AssertStillServing(bystander);
    }

    /// <summary>A client connected before the bad input, which must keep being served.</summary>
    private RawRespClient Bystander()
    {
        RawRespClient bystander = fixture.Node.Connect();
        Assert.Equal("+PONG", bystander.Call("PING").ToString());
        return bystander;
    }

    private static void AssertStillServing(RawRespClient bystander)
    {
        Assert.Equal("+PONG", bystander.Call("PING").ToString());
        Assert.Equal("$\"" + BadInputFixture.SentinelValue + "\"", bystander.Call("GET", SentinelKey).ToString());
    }

    internal static string Sentinel => SentinelKey;
}
