using System.Text;
using Dynamite.Cluster.Local;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;
using Dynamite.Storage.Memory;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Dynamite.Protocols.Tests.Infrastructure;

/// <summary>
/// A standalone node for command tests (a <see cref="LocalKeyValueStore"/> over the memory engine, on a fake clock),
/// one connection to it, and the helpers the typed-key tests share to send commands and look at what is stored.
/// </summary>
public abstract class StandaloneNodeTests : IAsyncLifetime
{
    private const string EndOfReply = "$12\r\nend-of-reply\r\n";

    protected FakeTimeProvider Clock { get; } = new(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));

    protected MemoryStorageEngine Engine { get; } = new(new KeyPartitioner(4));

    protected LocalKeyValueStore Store { get; private set; } = null!;

    private protected RespTestConnection Connection { get; private set; } = null!;

    public Task InitializeAsync()
    {
        Store = new LocalKeyValueStore(Engine, Clock);
        Connection = RespTestConnection.Start(Store);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await Connection.DisposeAsync();
        await Engine.DisposeAsync();
    }

    protected async Task Expect(string expected, params string[] command)
    {
        await Connection.SendAsync(RespText.Command(command));
        Assert.Equal(expected, await Connection.ReceiveAsync(expected));
    }

    /// <summary>Sends a command and reads its whole reply (the tests know its shape: a PING after it marks the end).</summary>
    protected async Task<string> Call(params string[] command)
    {
        await Connection.SendAsync(RespText.Command(command) + RespText.Command("PING", "end-of-reply"));
        var reply = new StringBuilder();
        DateTime deadline = DateTime.UtcNow + RespText.Timeout;
        while (!reply.ToString().EndsWith(EndOfReply, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No end-of-reply marker within {RespText.Timeout}; received so far: {reply}");
            }

            reply.Append(await Connection.ReceiveAsync("x"));
        }

        return reply.ToString()[..^EndOfReply.Length];
    }

    /// <summary>The bulk strings of a reply, in order.</summary>
    protected static string[] Bulks(string reply)
    {
        string[] lines = reply.Split("\r\n");
        var bulks = new List<string>();
        for (int i = 0; i < lines.Length - 1; i++)
        {
            if (lines[i].StartsWith('$'))
            {
                bulks.Add(lines[++i]);
            }
        }

        return [.. bulks];
    }

    protected byte[] StoredHeader(string key)
    {
        Assert.True(Engine.TryRead(Key(key), Store.NowUnixMs, out StoredRecord record));
        return record.Value;
    }

    protected static byte[] Key(string text) => Encoding.UTF8.GetBytes(text);

    protected static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    /// <summary>Writes a record as it is, to set up a stored state no command would produce.</summary>
    protected sealed class WriteRecord(byte[] key, StoredRecord record) : IStorageOperation
    {
        public int TouchedKeyCount => 1;

        public byte[] GetTouchedKey(int index) => key;

        public void Execute(IStorageTransaction transaction) => transaction.Write(key, record);
    }
}
