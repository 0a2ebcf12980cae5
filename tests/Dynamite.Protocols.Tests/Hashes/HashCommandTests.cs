using Dynamite.Cluster.Local;
using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Protocols.Tests.Infrastructure;
using Xunit;

namespace Dynamite.Protocols.Tests.Hashes;

/// <summary>
/// Hash commands on a standalone node (a <see cref="LocalKeyValueStore"/> over the memory engine, on a fake clock):
/// the replies, and the stored form the cluster step will reuse (a typed header record, one element per field).
/// </summary>
public sealed class HashCommandTests : StandaloneNodeTests
{
    [Fact]
    public async Task HSet_NewAndExistingFields_CountsOnlyTheNewOnesAndStoresATypedHeaderWithOneElementPerField()
    {
        await Expect(":2\r\n", "HSET", "h", "a", "1", "b", "2");
        await Expect(":1\r\n", "HSET", "h", "b", "20", "c", "3");

        Assert.True(Engine.TryRead(Key("h"), Store.NowUnixMs, out StoredRecord record));
        Assert.Equal(RecordKind.TypedHeader, record.Kind);
        TypedKeyRecord typed = TypedKeyRecord.Decode(record.Value);
        Assert.Equal(DataType.Hash, typed.Header.Type);
        Assert.Equal(3, typed.ElementCount);
        var actor = new NodeId("dynamite");
        Assert.Equal(5, typed.Header.Context.MaxCounter(actor)); // the creation and four field writes, one dot each

        ElementPage page = Engine.ScanElements(Key("h"), null, 10);
        Assert.Equal(["a", "b", "c"], page.Elements.Select(e => Text(e.Name)));
        ElementState b = ElementState.Decode(page.Elements[1].Value);
        ElementWrite write = Assert.Single(b.Writes);
        Assert.Equal("20", Text(write.Value!));
        Assert.Equal(actor, write.Dot.Node);
        Assert.Equal(Store.NowUnixMs, write.TimestampUnixMs);
    }

    [Fact]
    public async Task HLen_ReadsTheCountKeptInTheHeader_NotTheElements()
    {
        // A header claiming 42 fields over none: HLEN answers from the header alone.
        KeyHeader header = KeyHeader.Create(DataType.Hash, new Stamp(1, new Core.Versioning.Dot(new NodeId("x"), 1)));
        await Engine.ExecuteAsync(new WriteRecord(Key("h"), new TypedKeyRecord(header, 42).ToStoredRecord()), Store.NowUnixMs);

        await Expect(":42\r\n", "HLEN", "h");
        await Expect("*0\r\n", "HKEYS", "h");
    }

    [Fact]
    public async Task HDel_LastField_DeletesTheKey()
    {
        await Expect(":2\r\n", "HSET", "h", "a", "1", "b", "2");
        await Expect(":1\r\n", "HDEL", "h", "a", "zz");
        await Expect(":1\r\n", "HLEN", "h");
        await Expect(":1\r\n", "HDEL", "h", "b");

        Assert.False(Engine.TryRead(Key("h"), Store.NowUnixMs, out _));
        Assert.Empty(Engine.ScanElements(Key("h"), null, 10).Elements);
        Assert.Equal(0, Engine.KeyCount);
    }

    [Fact]
    public async Task HIncrBy_OnARegister_AddsACounterWriteOfTheNodesChain()
    {
        await Expect(":1\r\n", "HSET", "h", "f", "10");
        await Expect(":15\r\n", "HINCRBY", "h", "f", "5");
        await Expect(":12\r\n", "HINCRBY", "h", "f", "-3");
        await Expect("$2\r\n12\r\n", "HGET", "h", "f");
        await Expect(":2\r\n", "HSTRLEN", "h", "f");

        ElementState state = ReadField("h", "f");
        Assert.Equal("10", Text(state.RegisterWinner()!.Value!));
        CounterTotals chain = Assert.Single(state.LiveChains());
        Assert.Equal(5, chain.Increments);
        Assert.Equal(3, chain.Decrements);
        Assert.Equal(2, state.Writes.Length); // the register and the chain's latest write; the chain's first was superseded
    }

    [Fact]
    public async Task HSet_OverACounter_ReplacesItWithARegister()
    {
        await Expect(":7\r\n", "HINCRBY", "h", "f", "7");
        await Expect(":0\r\n", "HSET", "h", "f", "abc");
        await Expect("-ERR hash value is not an integer\r\n", "HINCRBY", "h", "f", "1");

        ElementState state = ReadField("h", "f");
        Assert.Empty(state.LiveChains());
        Assert.Equal("abc", Text(Assert.Single(state.Writes).Value!));
    }

    [Fact]
    public async Task ExpiredHash_ReadsAbsent_AndANewHashDoesNotSeeItsOldFields()
    {
        await Expect(":2\r\n", "HSET", "h", "a", "1", "b", "2");
        await Expect(":1\r\n", "PEXPIRE", "h", "1000");
        Assert.True(Engine.TryRead(Key("h"), Store.NowUnixMs, out StoredRecord record));
        Assert.Equal(Store.NowUnixMs + 1000, TypedKeyRecord.Decode(record.Value).Header.ExpiresAtUnixMs);
        Assert.Equal(Store.NowUnixMs + 1000, record.ExpiresAtUnixMs);

        Clock.Advance(TimeSpan.FromMilliseconds(1000));

        await Expect("*0\r\n", "HGETALL", "h");
        await Expect("+none\r\n", "TYPE", "h");
        await Expect(":0\r\n", "EXISTS", "h");
        await Expect(":1\r\n", "HSET", "h", "c", "3");
        await Expect("*2\r\n$1\r\nc\r\n$1\r\n3\r\n", "HGETALL", "h");
        await Expect(":-1\r\n", "TTL", "h");
    }

    [Fact]
    public async Task ExpirySweep_RemovesTheHeaderAndEveryElement()
    {
        await Expect(":3\r\n", "HSET", "h", "a", "1", "b", "2", "c", "3");
        await Expect(":1\r\n", "EXPIRE", "h", "10");
        Clock.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(1, await Engine.RemoveExpiredAsync(Store.NowUnixMs, 100));

        Assert.Empty(Engine.ScanElements(Key("h"), null, 10).Elements);
        Assert.Equal(0, Engine.KeyCount);
    }

    [Fact]
    public async Task Set_OverAHash_ReplacesItAndItsElementsGo()
    {
        await Expect(":2\r\n", "HSET", "h", "a", "1", "b", "2");
        await Expect("+OK\r\n", "SET", "h", "plain");

        await Expect("$5\r\nplain\r\n", "GET", "h");
        await Expect("+string\r\n", "TYPE", "h");
        Assert.Empty(Engine.ScanElements(Key("h"), null, 10).Elements);
        await Expect("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", "HGET", "h", "a");
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("INCR")]
    [InlineData("APPEND", "x")]
    [InlineData("GETRANGE", "0", "1")]
    [InlineData("STRLEN")]
    [InlineData("GETDEL")]
    [InlineData("SET", "v", "GET")]
    public async Task StringCommand_OnAHash_AnswersWrongTypeAndChangesNothing(string command, params string[] rest)
    {
        await Expect(":1\r\n", "HSET", "h", "a", "1");
        byte[] before = StoredHeader("h");

        await Expect("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", [command, "h", .. rest]);

        Assert.Equal(before, StoredHeader("h"));
        await Expect("$1\r\n1\r\n", "HGET", "h", "a");
    }

    [Fact]
    public async Task HScan_CountSmallerThanTheHash_ResumesAfterTheLastFieldEvenWhenFieldsChangeBetweenPages()
    {
        await Expect(":5\r\n", "HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5");

        string first = await Call("HSCAN", "h", "0", "COUNT", "2");
        Assert.EndsWith("*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n", first);
        string cursor = first.Split("\r\n")[2];
        Assert.NotEqual("0", cursor);

        // A field deleted before the position and one added after it: the scan neither repeats nor skips.
        await Expect(":1\r\n", "HDEL", "h", "a");
        await Expect(":1\r\n", "HSET", "h", "f", "6");
        string rest = await Call("HSCAN", "h", cursor, "COUNT", "10");
        Assert.Equal("*2\r\n$1\r\n0\r\n*8\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n$1\r\nf\r\n$1\r\n6\r\n", rest);
    }

    [Fact]
    public async Task HRandField_PositiveCount_ReturnsDistinctFields_NegativeCountMayRepeat()
    {
        await Expect(":3\r\n", "HSET", "h", "a", "1", "b", "2", "c", "3");

        string distinct = await Call("HRANDFIELD", "h", "10");
        Assert.StartsWith("*3\r\n", distinct);
        Assert.Equal(["a", "b", "c"], Bulks(distinct).Order(StringComparer.Ordinal));

        string repeated = await Call("HRANDFIELD", "h", "-7", "WITHVALUES");
        string[] items = Bulks(repeated);
        Assert.Equal(14, items.Length);
        for (int i = 0; i < items.Length; i += 2)
        {
            Assert.Equal(((char)('1' + (items[i][0] - 'a'))).ToString(), items[i + 1]);
        }
    }

    private ElementState ReadField(string key, string field)
    {
        Assert.True(Engine.TryReadElement(Key(key), Key(field), out byte[]? encoded));
        return ElementState.Decode(encoded);
    }
}
