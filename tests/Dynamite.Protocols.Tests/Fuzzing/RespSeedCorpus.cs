using System.Text;

namespace Dynamite.Protocols.Tests.Fuzzing;

/// <summary>
/// Seed inputs for the RESP fuzzer: the bytes redis-cli and redis-benchmark put on the wire (multibulk requests,
/// pipelined batches, the connection preamble) plus inline telnet-style commands with sdssplitargs quoting.
/// </summary>
internal static class RespSeedCorpus
{
    public static IReadOnlyList<byte[]> Entries { get; } = Build();

    /// <summary>A request as redis-cli encodes it: a multibulk array of bulk strings.</summary>
    public static byte[] Multibulk(params string[] arguments) => Multibulk(arguments.Select(Encoding.UTF8.GetBytes).ToArray());

    public static byte[] Multibulk(params byte[][] arguments)
    {
        var output = new List<byte>();
        output.AddRange(Encoding.ASCII.GetBytes($"*{arguments.Length}\r\n"));
        foreach (byte[] argument in arguments)
        {
            output.AddRange(Encoding.ASCII.GetBytes($"${argument.Length}\r\n"));
            output.AddRange(argument);
            output.AddRange("\r\n"u8.ToArray());
        }

        return [.. output];
    }

    private static List<byte[]> Build()
    {
        byte[] binaryValue = [0x00, 0x0D, 0x0A, 0x2A, 0x24, 0xFF, 0x0D, 0x0A, 0x80, 0x7F];
        var entries = new List<byte[]>
        {
            // redis-cli's connection preamble and everyday commands.
            Multibulk("COMMAND", "DOCS"),
            Multibulk("PING"),
            Multibulk("HELLO", "3"),
            Multibulk("HELLO", "3", "AUTH", "default", "s3cret", "SETNAME", "app-1"),
            Multibulk("AUTH", "s3cret"),
            Multibulk("AUTH", "default", "s3cret"),
            Multibulk("CLIENT", "SETNAME", "redis-benchmark"),
            Multibulk("CLIENT", "SETINFO", "LIB-NAME", "redis-py"),
            Multibulk("SELECT", "0"),
            Multibulk("CONFIG", "GET", "save"),
            Multibulk("SET", "user:42", "hello world"),
            Multibulk("SET", "session:1", "v", "EX", "10", "NX"),
            Multibulk("GET", "user:42"),
            Multibulk("DEL", "a", "b", "c"),
            Multibulk("EXPIRE", "k", "100"),
            Multibulk("TTL", "k"),
            Multibulk("EXISTS", "k"),
            Multibulk("SCAN", "0", "MATCH", "user:*", "COUNT", "100"),
            Multibulk([.. "SET"u8.ToArray()], [.. "bin"u8.ToArray()], binaryValue),
            Multibulk("SET", "big", new string('x', 300)),
            Multibulk("SET", "empty", string.Empty),
            // redis-benchmark's default tests (key:__rand_int__ is its literal placeholder; -d 3 values).
            Multibulk("SET", "key:__rand_int__", "xxx"),
            Multibulk("GET", "key:__rand_int__"),
            Multibulk("INCR", "counter:__rand_int__"),
            Multibulk("MSET", "key:{tag}:__rand_int__", "xxx", "key:{tag}:__rand_int__", "xxx", "key:{tag}:__rand_int__", "xxx"),
            Multibulk("MGET", "key:{tag}:__rand_int__", "key:{tag}:__rand_int__"),
            "*0\r\n"u8.ToArray(),
            // Inline commands, as typed into telnet or sent by redis-benchmark's PING_INLINE.
            "PING\r\n"u8.ToArray(),
            "GET foo\n"u8.ToArray(),
            "SET k \"hello world\"\r\n"u8.ToArray(),
            "SET k 'it\\'s'\r\n"u8.ToArray(),
            "SET k \"\\x41\\n\\t\\\\ \\\"\"\r\n"u8.ToArray(),
            "\r\n"u8.ToArray(),
            "  ECHO   spaced\targs  \r\n"u8.ToArray(),
        };

        // Pipelined batches: redis-benchmark -P 16 repeats one request back to back; a client mixes them.
        entries.Add([.. Enumerable.Repeat(Multibulk("PING"), 16).SelectMany(b => b)]);
        entries.Add([.. Enumerable.Range(0, 8).SelectMany(i => Multibulk("SET", $"key:{i}", $"value-{i}"))]);
        entries.Add([.. Multibulk("HELLO", "3"), .. Multibulk("CLIENT", "SETNAME", "x"), .. Multibulk("GET", "k"), .. "PING\r\n"u8.ToArray()]);
        entries.Add([.. Enumerable.Repeat("PING\r\n"u8.ToArray(), 16).SelectMany(b => b)]);
        return entries;
    }
}
