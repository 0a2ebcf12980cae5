using System.Buffers;
using System.Text;
using Dynamite.Fuzzing;
using Dynamite.Protocols.Resp;
using Xunit;

namespace Dynamite.Protocols.Tests;

public sealed class RespRequestParserTests
{
    private static readonly RespLimits Limits = new();

    private static List<string[]> ParseAll(ReadOnlySequence<byte> buffer, out long remaining, RespLimits? limits = null)
    {
        var requests = new List<string[]>();
        var request = new RespRequest();
        while (RespRequestParser.TryParse(ref buffer, request, limits ?? Limits, unauthenticated: false))
        {
            if (request.Count > 0)
            {
                requests.Add([.. Enumerable.Range(0, request.Count).Select(i => Encoding.UTF8.GetString(request[i]))]);
            }
        }

        remaining = buffer.Length;
        return requests;
    }

    private static List<string[]> ParseAll(string text, out long remaining, RespLimits? limits = null) =>
        ParseAll(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(text)), out remaining, limits);

    [Fact]
    public void TryParse_PipelinedMultibulk_ParsesEveryRequest()
    {
        List<string[]> requests = ParseAll("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n", out long remaining);
        Assert.Equal(0, remaining);
        Assert.Equal(2, requests.Count);
        Assert.Equal(["GET", "k"], requests[0]);
        Assert.Equal(["SET", "k", ""], requests[1]);
    }

    [Fact]
    public void TryParse_EveryPrefixOfARequest_IsIncompleteAndConsumesNothing()
    {
        string full = "*3\r\n$3\r\nSET\r\n$5\r\nhello\r\n$5\r\nworld\r\n";
        for (int length = 1; length < full.Length; length++)
        {
            List<string[]> requests = ParseAll(full[..length], out long remaining);
            Assert.Empty(requests);
            Assert.Equal(length, remaining);
        }
    }

    [Fact]
    public void TryParse_RequestEndingExactlyAtASegmentBoundary_ParsesTheNextRequest()
    {
        byte[] bytes = Encoding.UTF8.GetBytes("*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\nPING\r\n");
        ReadOnlySequence<byte> sequence = SegmentedSequence.Create(bytes, segmentLength: 14);
        List<string[]> requests = ParseAll(sequence, out long remaining);
        Assert.Equal(0, remaining);
        Assert.Equal(3, requests.Count);
    }

    [Fact]
    public void TryParse_SequenceStartingWithAnEmptySegment_ParsesTheRequest()
    {
        // Found by the fuzzer (it threw IndexOutOfRangeException on FirstSpan[0]); a multibulk and an inline request.
        ReadOnlySequence<byte> multibulk = FuzzSegment.FromPieces([], "*1\r\n$4\r\nPI"u8.ToArray(), "NG\r\n"u8.ToArray());
        Assert.Equal(["PING"], Assert.Single(ParseAll(multibulk, out long remaining)));
        Assert.Equal(0, remaining);
        ReadOnlySequence<byte> inline = FuzzSegment.FromPieces([], [], "PING\r\n"u8.ToArray());
        Assert.Equal(["PING"], Assert.Single(ParseAll(inline, out remaining)));
        Assert.Equal(0, remaining);
    }

    [Fact]
    public void TryParse_RequestSplitAcrossManySegments_CopiesArgumentsThatSpanSegments()
    {
        byte[] bytes = Encoding.UTF8.GetBytes("*3\r\n$3\r\nSET\r\n$5\r\nhello\r\n$11\r\nhello world\r\n");
        ReadOnlySequence<byte> sequence = SegmentedSequence.Create(bytes, segmentLength: 3);
        List<string[]> requests = ParseAll(sequence, out long remaining);
        Assert.Equal(0, remaining);
        Assert.Equal(["SET", "hello", "hello world"], Assert.Single(requests));
    }

    [Theory]
    [InlineData("PING\r\n", new[] { "PING" })]
    [InlineData("set k \"a b\"\n", new[] { "set", "k", "a b" })]
    [InlineData("set k \"\\x41\\n\"\r\n", new[] { "set", "k", "A\n" })]
    [InlineData("set k 'it\\'s'\r\n", new[] { "set", "k", "it's" })]
    [InlineData("   echo    x   \r\n", new[] { "echo", "x" })]
    public void TryParse_InlineRequests_SplitLikeSdssplitargs(string line, string[] expected)
    {
        Assert.Equal(expected, Assert.Single(ParseAll(line, out _)));
    }

    [Fact]
    public void TryParse_EmptyInlineLines_AreSkipped()
    {
        Assert.Empty(ParseAll("\r\n\r\n", out long remaining));
        Assert.Equal(0, remaining);
    }

    [Theory]
    [InlineData("*abc\r\n", "ERR Protocol error: invalid multibulk length")]
    [InlineData("*2000000\r\n", "ERR Protocol error: invalid multibulk length")]
    [InlineData("*1\r\nx", "ERR Protocol error: expected '$', got 'x'")]
    [InlineData("*1\r\n$-5\r\n", "ERR Protocol error: invalid bulk length")]
    [InlineData("*1\r\n$99999999999\r\n", "ERR Protocol error: invalid bulk length")]
    [InlineData("set k \"abc\r\n", "ERR Protocol error: unbalanced quotes in request")]
    [InlineData("set k \"abc\"x\r\n", "ERR Protocol error: unbalanced quotes in request")]
    public void TryParse_MalformedRequests_ThrowRedisErrors(string text, string expected)
    {
        RespProtocolException exception = Assert.Throws<RespProtocolException>(() => ParseAll(text, out _));
        Assert.Equal(expected, exception.Message);
    }

    [Fact]
    public void TryParse_InlineLineOver64KiB_IsRejected()
    {
        string text = new('a', 70 * 1024);
        RespProtocolException exception = Assert.Throws<RespProtocolException>(() => ParseAll(text, out _));
        Assert.Equal("ERR Protocol error: too big inline request", exception.Message);
    }

    [Fact]
    public void TryParse_UnauthenticatedLargeMultibulk_IsRejected()
    {
        var buffer = new ReadOnlySequence<byte>("*11\r\n"u8.ToArray());
        RespProtocolException exception = Assert.Throws<RespProtocolException>(
            () => RespRequestParser.TryParse(ref buffer, new RespRequest(), Limits, unauthenticated: true));
        Assert.Equal("ERR Protocol error: unauthenticated multibulk length", exception.Message);
    }

    [Fact]
    public void ToOwnedArray_ArgumentCopiedAcrossSegments_IsHandedOverWithoutAnotherCopy()
    {
        byte[] bytes = Encoding.UTF8.GetBytes("*2\r\n$3\r\nGET\r\n$10\r\n0123456789\r\n");
        ReadOnlySequence<byte> sequence = SegmentedSequence.Create(bytes, segmentLength: 4);
        var request = new RespRequest();
        Assert.True(RespRequestParser.TryParse(ref sequence, request, Limits, unauthenticated: false));
        byte[] first = request.ToOwnedArray(1);
        byte[] second = request.ToOwnedArray(1);
        Assert.Equal("0123456789", Encoding.ASCII.GetString(first));
        Assert.NotSame(first, second);
    }
}
