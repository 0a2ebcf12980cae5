using System.Text;
using Dynamite.Cli.Bench;
using Xunit;

namespace Dynamite.Server.Tests.Bench;

public sealed class RespReplyReaderTests
{
    private const string Replies =
        "+OK\r\n" +
        "-ERR wrong\r\n" +
        ":42\r\n" +
        "$5\r\nhello\r\n" +
        "$-1\r\n" +
        "*3\r\n$1\r\na\r\n*2\r\n:1\r\n-ERR inner\r\n$-1\r\n" +
        "*0\r\n" +
        "*-1\r\n" +
        "%1\r\n+k\r\n+v\r\n" +
        "_\r\n" +
        "$0\r\n\r\n";

    private static readonly bool[] ExpectedErrors = [false, true, false, false, false, true, false, false, false, false, false];

    [Fact]
    public void EveryReplyType_IsCounted_AndErrorsAreFlagged_WhenDeliveredWhole()
    {
        (List<bool> errors, string? first) = ReadAll(Encoding.ASCII.GetBytes(Replies), chunk: int.MaxValue);
        Assert.Equal(ExpectedErrors, errors);
        Assert.Equal("ERR wrong", first);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    public void Replies_ReadTheSame_WhenDeliveredInPieces(int chunk)
    {
        (List<bool> errors, _) = ReadAll(Encoding.ASCII.GetBytes(Replies), chunk);
        Assert.Equal(ExpectedErrors, errors);
    }

    [Fact]
    public void LargeBulk_IsSkippedAcrossManyReads()
    {
        string value = new('x', 139_000);
        byte[] bytes = Encoding.ASCII.GetBytes($"$139000\r\n{value}\r\n+OK\r\n");
        (List<bool> errors, _) = ReadAll(bytes, chunk: 16 * 1024);
        Assert.Equal([false, false], errors);
    }

    [Theory]
    [InlineData("?what\r\n")]
    [InlineData("$abc\r\n")]
    [InlineData("+OK\n")]
    [InlineData("$-2\r\n")]
    public void Garbage_IsAProtocolError(string garbage)
    {
        var reader = new RespReplyReader();
        Assert.Throws<InvalidDataException>(() => reader.TryRead(Encoding.ASCII.GetBytes(garbage), out _, out _));
    }

    [Fact]
    public void IncompleteLine_IsNotConsumed()
    {
        var reader = new RespReplyReader();
        Assert.False(reader.TryRead("+O"u8, out int consumed, out _));
        Assert.Equal(0, consumed);
    }

    /// <summary>Feeds <paramref name="bytes"/> a chunk more at a time, as reads would, keeping unconsumed bytes.</summary>
    private static (List<bool> Errors, string? FirstError) ReadAll(byte[] bytes, int chunk)
    {
        var reader = new RespReplyReader();
        var errors = new List<bool>();
        int start = 0;
        int end = 0;
        while (true)
        {
            while (true)
            {
                bool complete = reader.TryRead(bytes.AsSpan(start, end - start), out int consumed, out bool isError);
                start += consumed;
                if (!complete)
                {
                    break;
                }

                errors.Add(isError);
            }

            if (end == bytes.Length)
            {
                break;
            }

            end = (int)Math.Min(bytes.Length, (long)end + chunk);
        }

        Assert.Equal(bytes.Length, start);
        return (errors, reader.FirstError);
    }
}
