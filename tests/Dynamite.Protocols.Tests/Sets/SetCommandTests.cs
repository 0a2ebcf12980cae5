using Dynamite.Cluster.Local;
using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Protocols.Tests.Infrastructure;
using Xunit;

namespace Dynamite.Protocols.Tests.Sets;

/// <summary>
/// Set commands on a standalone node (a <see cref="LocalKeyValueStore"/> over the memory engine, on a fake clock): the
/// replies, and the stored form (a typed header record, one element per member holding one register write).
/// </summary>
public sealed class SetCommandTests : StandaloneNodeTests
{
    private const string WrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

    [Fact]
    public async Task SAdd_StoresATypedHeaderAndOneElementPerMemberWithAnEmptyRegisterUnderANewDot()
    {
        await Expect(":3\r\n", "SADD", "s", "a", "b", "c");
        await Expect(":1\r\n", "SADD", "s", "c", "d", "d");

        Assert.True(Engine.TryRead(Key("s"), Store.NowUnixMs, out StoredRecord record));
        Assert.Equal(RecordKind.TypedHeader, record.Kind);
        TypedKeyRecord typed = TypedKeyRecord.Decode(record.Value);
        Assert.Equal(DataType.Set, typed.Header.Type);
        Assert.Equal(4, typed.ElementCount);
        var actor = new NodeId("dynamite");
        Assert.Equal(7, typed.Header.Context.MaxCounter(actor)); // the creation and six member writes (a repeat in one command too)

        ElementPage page = Engine.ScanElements(Key("s"), null, 10);
        Assert.Equal(["a", "b", "c", "d"], page.Elements.Select(e => Text(e.Name)));
        ElementWrite write = Assert.Single(ElementState.Decode(page.Elements[2].Value).Writes);
        Assert.Empty(write.Value!);
        Assert.Equal(actor, write.Dot.Node);
        await Expect("+set\r\n", "TYPE", "s");
    }

    [Fact]
    public async Task SCard_ReadsTheCountKeptInTheHeader_SIsMemberOnePointRead()
    {
        KeyHeader header = KeyHeader.Create(DataType.Set, new Stamp(1, new Core.Versioning.Dot(new NodeId("x"), 1)));
        await Engine.ExecuteAsync(new WriteRecord(Key("s"), new TypedKeyRecord(header, 42).ToStoredRecord()), Store.NowUnixMs);

        await Expect(":42\r\n", "SCARD", "s");
        await Expect(":0\r\n", "SISMEMBER", "s", "a");
        await Expect("*0\r\n", "SMEMBERS", "s");
    }

    [Fact]
    public async Task SRem_AndSPop_OfTheLastMembers_DeleteTheKeyAndItsElements()
    {
        await Expect(":3\r\n", "SADD", "s", "a", "b", "c");
        await Expect(":1\r\n", "SREM", "s", "a", "zz", "a");
        await Expect(":2\r\n", "SCARD", "s");
        string popped = await Call("SPOP", "s", "1");
        Assert.Single(Bulks(popped));
        await Expect(":1\r\n", "SCARD", "s");
        Assert.Single(Engine.ScanElements(Key("s"), null, 10).Elements);

        string rest = await Call("SPOP", "s", "5");
        Assert.Single(Bulks(rest));
        Assert.False(Engine.TryRead(Key("s"), Store.NowUnixMs, out _));
        Assert.Empty(Engine.ScanElements(Key("s"), null, 10).Elements);
        Assert.Equal(0, Engine.KeyCount);
    }

    [Fact]
    public async Task SetReplies_AreRespThreeSets_SRandMemberWithACountIsAnArray()
    {
        await Expect(":2\r\n", "SADD", "s", "a", "b");
        await Expect("*2\r\n$1\r\na\r\n$1\r\nb\r\n", "SMEMBERS", "s");
        await Connection.SendAsync(RespText.Command("HELLO", "3"));
        await Call("PING");

        await Expect("~2\r\n$1\r\na\r\n$1\r\nb\r\n", "SMEMBERS", "s");
        await Expect("~2\r\n$1\r\na\r\n$1\r\nb\r\n", "SUNION", "s", "nokey");
        await Expect("~0\r\n", "SPOP", "nokey", "3");
        await Expect("*0\r\n", "SRANDMEMBER", "nokey", "3");
        Assert.StartsWith("*2\r\n", await Call("SRANDMEMBER", "s", "5"));
    }

    [Fact]
    public async Task SMove_MovesTheElementBetweenKeys_DeletingAnEmptiedSourceAndCreatingTheDestination()
    {
        await Expect(":1\r\n", "SADD", "src", "m");
        await Expect(":1\r\n", "SMOVE", "src", "dst", "m");
        Assert.Equal(0, await Exists("src"));
        await Expect("*1\r\n$1\r\nm\r\n", "SMEMBERS", "dst");
        await Expect(":0\r\n", "SMOVE", "src", "dst", "m");

        await Expect("+OK\r\n", "SET", "str", "v");
        await Expect(":0\r\n", "SMOVE", "nokey", "str", "m"); // a missing source answers 0 before any type check
        await Expect(WrongType, "SMOVE", "dst", "str", "m");
        await Expect(":1\r\n", "SCARD", "dst");
        await Expect(":1\r\n", "SMOVE", "dst", "dst", "m");
        await Expect(":0\r\n", "SMOVE", "dst", "dst", "zz");
    }

    [Fact]
    public async Task Store_ReplacesADestinationOfAnyTypeInOneWrite_AndAnEmptyResultDeletesIt()
    {
        await Expect(":3\r\n", "SADD", "a", "1", "2", "3");
        await Expect(":2\r\n", "SADD", "b", "2", "3");
        await Expect(":2\r\n", "HSET", "dst", "f", "v", "g", "w");
        await Expect(":1\r\n", "EXPIRE", "dst", "100");

        await Expect(":2\r\n", "SINTERSTORE", "dst", "a", "b");
        await Expect("+set\r\n", "TYPE", "dst");
        await Expect(":-1\r\n", "TTL", "dst");
        Assert.Equal(["2", "3"], Engine.ScanElements(Key("dst"), null, 10).Elements.Select(e => Text(e.Name)));

        await Expect(":1\r\n", "SDIFFSTORE", "a", "a", "b"); // the destination is also the first source
        await Expect("*1\r\n$1\r\n1\r\n", "SMEMBERS", "a");
        await Expect(":0\r\n", "SINTERSTORE", "dst", "a", "b");
        Assert.Equal(0, await Exists("dst"));
        Assert.Empty(Engine.ScanElements(Key("dst"), null, 10).Elements);
    }

    [Fact]
    public async Task Store_OverASet_KeepsItsContext_SoNoDotIsIssuedTwice()
    {
        await Expect(":2\r\n", "SADD", "dst", "x", "y");
        long before = TypedKeyRecord.Decode(StoredHeader("dst")).Header.Context.MaxCounter(new NodeId("dynamite"));
        await Expect(":1\r\n", "SADD", "src", "z");

        await Expect(":1\r\n", "SUNIONSTORE", "dst", "src");

        TypedKeyRecord typed = TypedKeyRecord.Decode(StoredHeader("dst"));
        Assert.Equal(1, typed.ElementCount);
        Assert.True(typed.Header.Context.MaxCounter(new NodeId("dynamite")) > before);
    }

    [Fact]
    public async Task MultiKeyCommands_CheckEverySourcesTypeFirst_AndChangeNothingOnWrongType()
    {
        await Expect(":1\r\n", "SADD", "s", "a");
        await Expect("+OK\r\n", "SET", "str", "v");
        await Expect(":1\r\n", "SADD", "dst", "keep");

        await Expect(WrongType, "SINTER", "nokey", "str");
        await Expect(WrongType, "SINTERSTORE", "dst", "nokey", "str");
        await Expect(WrongType, "SUNIONSTORE", "dst", "s", "str");
        await Expect(WrongType, "SDIFFSTORE", "dst", "nokey", "str");
        await Expect(WrongType, "SINTERCARD", "2", "s", "str");
        await Expect("*1\r\n$4\r\nkeep\r\n", "SMEMBERS", "dst");
    }

    [Fact]
    public async Task SInterCard_StopsAtTheLimit()
    {
        await Expect(":5\r\n", "SADD", "a", "1", "2", "3", "4", "5");
        await Expect(":4\r\n", "SADD", "b", "2", "3", "4", "5");
        await Expect(":4\r\n", "SINTERCARD", "2", "a", "b");
        await Expect(":2\r\n", "SINTERCARD", "2", "a", "b", "LIMIT", "2");
        await Expect(":4\r\n", "SINTERCARD", "2", "a", "b", "LIMIT", "0");
        await Expect("-ERR LIMIT can't be negative\r\n", "SINTERCARD", "2", "a", "b", "LIMIT", "-1");
        await Expect("-ERR Number of keys can't be greater than number of args\r\n", "SINTERCARD", "3", "a", "b");
    }

    [Fact]
    public async Task SScan_ResumesAfterTheLastMember()
    {
        await Expect(":4\r\n", "SADD", "s", "a", "b", "c", "d");

        string first = await Call("SSCAN", "s", "0", "COUNT", "2");
        Assert.EndsWith("*2\r\n$1\r\na\r\n$1\r\nb\r\n", first);
        string cursor = first.Split("\r\n")[2];
        await Expect(":1\r\n", "SREM", "s", "a");
        await Expect("*2\r\n$1\r\n0\r\n*2\r\n$1\r\nc\r\n$1\r\nd\r\n", "SSCAN", "s", cursor);
    }

    [Fact]
    public async Task ExpiredSet_ReadsAbsent_AndANewSetDoesNotSeeItsOldMembers()
    {
        await Expect(":2\r\n", "SADD", "s", "a", "b");
        await Expect(":1\r\n", "PEXPIRE", "s", "1000");
        Clock.Advance(TimeSpan.FromMilliseconds(1000));

        await Expect(":0\r\n", "SCARD", "s");
        await Expect(":1\r\n", "SADD", "s", "c");
        await Expect("*1\r\n$1\r\nc\r\n", "SMEMBERS", "s");
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("INCR")]
    [InlineData("HGET", "f")]
    [InlineData("SET", "v", "GET")]
    public async Task OtherTypesCommand_OnASet_AnswersWrongTypeAndChangesNothing(string command, params string[] rest)
    {
        await Expect(":1\r\n", "SADD", "s", "a");
        byte[] before = StoredHeader("s");

        await Expect(WrongType, [command, "s", .. rest]);

        Assert.Equal(before, StoredHeader("s"));
    }

    private async Task<int> Exists(string key) => int.Parse((await Call("EXISTS", key))[1..^2], System.Globalization.CultureInfo.InvariantCulture);
}
