using Dynamite.Protocols.Tests.Infrastructure;
using Xunit;

namespace Dynamite.Protocols.Tests.Keys;

/// <summary>
/// OBJECT ENCODING follows the thresholds CONFIG SET leaves, as redis-server's encodings do, and reads no further than
/// one element past them (the differential test compares the default thresholds' answers with redis-server's).
/// </summary>
public sealed class ObjectEncodingTests : StandaloneNodeTests
{
    [Fact]
    public async Task SetOfIntegers_IsAnIntsetUpToSetMaxIntsetEntries_ThenAHashtable()
    {
        await Expect("+OK\r\n", "CONFIG", "SET", "set-max-intset-entries", "3");
        await Expect(":3\r\n", "SADD", "s", "1", "2", "3");
        await Expect("$6\r\nintset\r\n", "OBJECT", "ENCODING", "s");
        await Expect(":1\r\n", "SADD", "s", "4");
        await Expect("$9\r\nhashtable\r\n", "OBJECT", "ENCODING", "s");
        await Expect(":1\r\n", "SREM", "s", "4");
        await Expect("$6\r\nintset\r\n", "OBJECT", "ENCODING", "s");
    }

    [Fact]
    public async Task Hash_IsAListpackWhileItsEntriesAndValuesFit_ThenAHashtable()
    {
        await Expect("+OK\r\n", "CONFIG", "SET", "hash-max-ziplist-entries", "2", "hash-max-listpack-value", "4");
        await Expect(":2\r\n", "HSET", "h", "a", "1234", "b", "x");
        await Expect("$8\r\nlistpack\r\n", "OBJECT", "ENCODING", "h");
        await Expect(":0\r\n", "HSET", "h", "a", "12345");
        await Expect("$9\r\nhashtable\r\n", "OBJECT", "ENCODING", "h");
        await Expect(":0\r\n", "HSET", "h", "a", "1");
        await Expect(":1\r\n", "HSET", "h", "c", "1");
        await Expect("$9\r\nhashtable\r\n", "OBJECT", "ENCODING", "h");
    }

    [Fact]
    public async Task IdleTime_IsRefusedWithAReason_OnAKeyThatExists()
    {
        await Expect("$-1\r\n", "OBJECT", "IDLETIME", "missing");
        await Expect("+OK\r\n", "SET", "k", "v");
        await Expect("-ERR Dynamite records a key's last access only while an lru maxmemory-policy is selected, so OBJECT IDLETIME has no answer now\r\n", "OBJECT", "IDLETIME", "k");
    }
}
