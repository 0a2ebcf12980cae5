using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Protocols.Tests.Infrastructure;
using Xunit;

namespace Dynamite.Protocols.Tests.Lists;

/// <summary>List commands on a standalone node: redis-server 7.0's replies and errors, and the stored form.</summary>
public sealed class ListCommandTests : StandaloneNodeTests
{
    [Fact]
    public async Task Pushes_StoreOneElementPerItem_NamedInListOrder()
    {
        await Expect(":3\r\n", "RPUSH", "l", "b", "c", "d");
        await Expect(":4\r\n", "LPUSH", "l", "a");
        await Expect(":5\r\n", "LINSERT", "l", "AFTER", "b", "b2");

        Assert.True(Engine.TryRead(Key("l"), Store.NowUnixMs, out StoredRecord record));
        TypedKeyRecord typed = TypedKeyRecord.Decode(record.Value);
        Assert.Equal(DataType.List, typed.Header.Type);
        Assert.Equal(5, typed.ElementCount);
        ElementPage page = Engine.ScanElements(Key("l"), null, 10);
        string[] values = [.. page.Elements.Select(e => Text(ElementState.Decode(e.Value).RegisterWinner()!.Value!))];
        Assert.Equal(["a", "b", "b2", "c", "d"], values);
        await Expect("+list\r\n", "TYPE", "l");
    }

    [Fact]
    public async Task Pops_AndRanges_AnswerAsRedis()
    {
        await Expect(":5\r\n", "RPUSH", "l", "1", "2", "3", "4", "5");
        await Expect("$1\r\n1\r\n", "LPOP", "l");
        await Expect("*2\r\n$1\r\n5\r\n$1\r\n4\r\n", "RPOP", "l", "2");
        await Expect("*0\r\n", "LPOP", "l", "0");
        await Expect("*2\r\n$1\r\n2\r\n$1\r\n3\r\n", "LRANGE", "l", "-100", "-1");
        await Expect("*0\r\n", "LRANGE", "l", "-1", "-100");
        await Expect("*0\r\n", "LRANGE", "l", "5", "10");
        await Expect("$-1\r\n", "LINDEX", "l", "7");
        await Expect("*-1\r\n", "LPOP", "missing", "3");
        await Expect("$-1\r\n", "RPOP", "missing");
        await Expect("-ERR value is out of range, must be positive\r\n", "LPOP", "l", "-1");
    }

    [Fact]
    public async Task Edits_FollowRedisRules()
    {
        await Expect(":6\r\n", "RPUSH", "l", "a", "b", "a", "c", "a", "d");
        await Expect(":2\r\n", "LREM", "l", "-2", "a");
        await Expect("*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n", "LRANGE", "l", "0", "-1");
        await Expect("+OK\r\n", "LSET", "l", "-1", "D");
        await Expect("-ERR index out of range\r\n", "LSET", "l", "9", "x");
        await Expect("-ERR no such key\r\n", "LSET", "none", "0", "x");
        await Expect(":-1\r\n", "LINSERT", "l", "BEFORE", "zz", "x");
        await Expect(":0\r\n", "LINSERT", "none", "BEFORE", "a", "x");
        await Expect("+OK\r\n", "LTRIM", "l", "1", "-2");
        await Expect("*2\r\n$1\r\nb\r\n$1\r\nc\r\n", "LRANGE", "l", "0", "-1");
        await Expect(":1\r\n", "LPOS", "l", "c");
        await Expect("*0\r\n", "LPOS", "l", "zz", "COUNT", "0");
        await Expect("+OK\r\n", "LTRIM", "l", "5", "10");
        await Expect(":0\r\n", "EXISTS", "l");
    }

    [Fact]
    public async Task Moves_CheckBothTypes_BeforeChangingAnything()
    {
        await Expect(":2\r\n", "RPUSH", "src", "a", "b");
        await Expect("+OK\r\n", "SET", "str", "x");
        await Expect("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", "LMOVE", "src", "str", "LEFT", "LEFT");
        await Expect(":2\r\n", "LLEN", "src");
        await Expect("$1\r\nb\r\n", "RPOPLPUSH", "src", "src");
        await Expect("*2\r\n$1\r\nb\r\n$1\r\na\r\n", "LRANGE", "src", "0", "-1");
        await Expect("*2\r\n$3\r\nsrc\r\n*2\r\n$1\r\nb\r\n$1\r\na\r\n", "LMPOP", "2", "none", "src", "LEFT", "COUNT", "5");
        await Expect("*-1\r\n", "LMPOP", "1", "src", "LEFT");
        await Expect("*-1\r\n", "BLPOP", "src", "0.05");
    }
}
