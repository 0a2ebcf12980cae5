using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Protocols.Tests.Infrastructure;
using Xunit;

namespace Dynamite.Protocols.Tests.SortedSets;

/// <summary>
/// Sorted-set commands on a standalone node: redis-server 7.0's replies (scores in %.17g, RESP3 pairs), its argument
/// errors, and the stored form (one element per member whose register holds the score's 8 bytes).
/// </summary>
public sealed class SortedSetCommandTests : StandaloneNodeTests
{
    [Fact]
    public async Task ZAdd_StoresOneElementPerMember_WithTheScoreAsItsRegister()
    {
        await Expect(":2\r\n", "ZADD", "z", "1.5", "a", "-2", "b");

        Assert.True(Engine.TryRead(Key("z"), Store.NowUnixMs, out StoredRecord record));
        TypedKeyRecord typed = TypedKeyRecord.Decode(record.Value);
        Assert.Equal(DataType.SortedSet, typed.Header.Type);
        Assert.Equal(2, typed.ElementCount);
        ElementPage page = Engine.ScanElements(Key("z"), null, 10);
        Assert.Equal(["a", "b"], page.Elements.Select(e => Text(e.Name)));
        byte[] score = ElementState.Decode(page.Elements[0].Value).RegisterWinner()!.Value!;
        Assert.Equal(1.5, BitConverter.Int64BitsToDouble(System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(score)));
        await Expect("+zset\r\n", "TYPE", "z");
    }

    [Fact]
    public async Task Scores_AreWrittenAsRedis70Does()
    {
        await Expect(":4\r\n", "ZADD", "z", "1.1", "a", "1e20", "b", "-inf", "c", "0.00001", "d");
        await Expect("$18\r\n1.1000000000000001\r\n", "ZSCORE", "z", "a");
        await Expect("$5\r\n1e+20\r\n", "ZSCORE", "z", "b");
        await Expect("$4\r\n-inf\r\n", "ZSCORE", "z", "c");
        await Expect("$22\r\n1.0000000000000001e-05\r\n", "ZSCORE", "z", "d");
        await Expect("*3\r\n$4\r\n-inf\r\n$-1\r\n$18\r\n1.1000000000000001\r\n", "ZMSCORE", "z", "c", "none", "a");
    }

    [Fact]
    public async Task ZAdd_RefusesBadScoresAndOptionClashes_BeforeChangingAnything()
    {
        await Expect("-ERR value is not a valid float\r\n", "ZADD", "z", "1", "a", "nan", "b");
        await Expect("-ERR value is not a valid float\r\n", "ZADD", "z", " 1", "a");
        await Expect("-ERR value is not a valid float\r\n", "ZADD", "z", "1e400", "a");
        await Expect("-ERR XX and NX options at the same time are not compatible\r\n", "ZADD", "z", "NX", "XX", "1", "a");
        await Expect("-ERR GT, LT, and/or NX options at the same time are not compatible\r\n", "ZADD", "z", "GT", "LT", "1", "a");
        await Expect("-ERR INCR option supports a single increment-element pair\r\n", "ZADD", "z", "INCR", "1", "a", "2", "b");
        await Expect("-ERR syntax error\r\n", "ZADD", "z", "1", "a", "2");
        await Expect(":0\r\n", "EXISTS", "z");

        await Expect(":1\r\n", "ZADD", "z", "inf", "a");
        await Expect("-ERR resulting score is not a number (NaN)\r\n", "ZINCRBY", "z", "-inf", "a");
        await Expect("$3\r\ninf\r\n", "ZSCORE", "z", "a");
    }

    [Fact]
    public async Task ZAdd_Conditions_FollowRedis()
    {
        await Expect(":1\r\n", "ZADD", "z", "5", "a");
        await Expect(":0\r\n", "ZADD", "z", "NX", "1", "a");
        await Expect(":0\r\n", "ZADD", "z", "XX", "1", "b");
        await Expect(":0\r\n", "ZADD", "z", "GT", "CH", "3", "a");
        await Expect(":1\r\n", "ZADD", "z", "LT", "CH", "3", "a");
        await Expect("$-1\r\n", "ZADD", "z", "GT", "INCR", "-1", "a");
        await Expect("$1\r\n4\r\n", "ZADD", "z", "INCR", "1", "a");
        await Expect("*2\r\n$1\r\na\r\n$1\r\n4\r\n", "ZRANGE", "z", "0", "-1", "WITHSCORES");
    }

    [Fact]
    public async Task RangeReplies_NestPairsInResp3()
    {
        await Expect(":3\r\n", "ZADD", "z", "1", "a", "2", "b", "3", "c");
        await Call("HELLO", "3");
        await Expect("*2\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$1\r\nb\r\n,2\r\n", "ZRANGE", "z", "+inf", "(1", "BYSCORE", "REV", "WITHSCORES");
        await Expect("*2\r\n$1\r\na\r\n,1\r\n", "ZPOPMIN", "z");
        await Expect("*1\r\n*2\r\n$1\r\nc\r\n,3\r\n", "ZPOPMAX", "z", "1");
        await Expect("*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nb\r\n,2\r\n", "ZMPOP", "2", "none", "z", "MIN", "COUNT", "5");
        await Expect("_\r\n", "ZMPOP", "1", "z", "MIN");
    }

    [Fact]
    public async Task RangeArguments_AreCheckedAsRedisChecksThem()
    {
        await Expect(":1\r\n", "ZADD", "z", "1", "a");
        await Expect("-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n", "ZRANGE", "z", "0", "1", "LIMIT", "0", "1");
        await Expect("-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n", "ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES");
        await Expect("-ERR min or max is not a float\r\n", "ZCOUNT", "z", "x", "1");
        await Expect("-ERR min or max not valid string range item\r\n", "ZLEXCOUNT", "z", "a", "+");
        await Expect("-ERR at least 1 input key is needed for 'zintercard' command\r\n", "ZINTERCARD", "0", "z");
        await Expect("-ERR timeout is negative\r\n", "BZPOPMIN", "z", "-1");
        await Expect("-ERR timeout is not a float or out of range\r\n", "BZPOPMIN", "z", "soon");
    }

    [Fact]
    public async Task Algebra_TakesSetsAsScoreOne_AndAggregatesAsRedis()
    {
        await Expect(":2\r\n", "ZADD", "z", "1", "a", "2", "b");
        await Expect(":2\r\n", "SADD", "s", "b", "c");
        await Expect("*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nc\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n3\r\n", "ZUNION", "2", "z", "s", "WITHSCORES");
        await Expect(":1\r\n", "ZINTERSTORE", "out", "2", "z", "s", "WEIGHTS", "2", "10", "AGGREGATE", "MAX");
        await Expect("*2\r\n$1\r\nb\r\n$2\r\n10\r\n", "ZRANGE", "out", "0", "-1", "WITHSCORES");
        await Expect("*1\r\n$1\r\na\r\n", "ZDIFF", "2", "z", "s");
        await Expect(":1\r\n", "ZINTERCARD", "2", "z", "s");
        await Expect(":0\r\n", "ZDIFFSTORE", "out", "2", "s", "s");
        await Expect(":0\r\n", "EXISTS", "out");
    }
}
