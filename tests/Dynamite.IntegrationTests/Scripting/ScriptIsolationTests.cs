using Dynamite.IntegrationTests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace Dynamite.IntegrationTests.Scripting;

/// <summary>
/// Scripts and transactions are isolated from other clients' commands on the node that runs them, as on redis-server:
/// a read-modify-write in Lua (what rate limiters, locks and job queues are built of) never loses a concurrent INCR to
/// an interleaving, on a standalone node of the default engine and on a cluster node that coordinates every client.
/// </summary>
public sealed class ScriptIsolationTests
{
    private const int Rounds = 150;

    /// <summary>Reads, then writes one more: without isolation, an INCR landing between the two is lost.</summary>
    private const string ReadThenWrite = """
        local value = tonumber(redis.call('GET', KEYS[1]) or '0')
        redis.call('SET', KEYS[1], value + 1)
        return value + 1
        """;

    [Fact]
    public async Task OnOneNode_ScriptsAndTransactionsInterleavedWithIncr_LoseNoIncrement()
    {
        await using DynamiteNode node = await DynamiteNode.StartAsync(engine: "rocksdb");
        await CountEveryIncrement(node.Port, "{iso}:counter");
    }

    [Fact]
    public async Task OnAClusterNode_ItsOwnClientsScriptsAndIncrs_LoseNoIncrement()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        await CountEveryIncrement(cluster[0].Port, "{iso}:counter");
    }

    private static async Task CountEveryIncrement(int port, string key)
    {
        using ConnectionMultiplexer scripts = await Connect(port);
        using ConnectionMultiplexer transactions = await Connect(port);
        using ConnectionMultiplexer increments = await Connect(port);
        IDatabase scriptDb = scripts.GetDatabase();
        IDatabase transactionDb = transactions.GetDatabase();
        IDatabase incrementDb = increments.GetDatabase();
        await incrementDb.StringSetAsync(key, 0);

        async Task RunScripts()
        {
            for (int i = 0; i < Rounds; i++)
            {
                await scriptDb.ScriptEvaluateAsync(ReadThenWrite, [key]);
            }
        }

        async Task RunTransactions()
        {
            for (int i = 0; i < Rounds; i++)
            {
                // A transaction whose first command reads and whose last writes what it read plus one, as in RunScripts:
                // INCRBY 0 reads without changing, then INCR; an INCR of another client between them would still count,
                // so this checks only that EXEC keeps other clients out while both run.
                ITransaction transaction = transactionDb.CreateTransaction();
                Task<long> read = transaction.StringIncrementAsync(key, 0);
                Task<long> written = transaction.StringIncrementAsync(key);
                Assert.True(await transaction.ExecuteAsync());
                Assert.Equal(await read + 1, await written);
            }
        }

        async Task RunIncrements()
        {
            for (int i = 0; i < Rounds; i++)
            {
                await incrementDb.StringIncrementAsync(key);
            }
        }

        await Task.WhenAll(
            Task.Run(RunScripts), Task.Run(RunScripts),
            Task.Run(RunTransactions),
            Task.Run(RunIncrements), Task.Run(RunIncrements));

        Assert.Equal(5 * Rounds, (long)await incrementDb.StringGetAsync(key));
    }

    private static Task<ConnectionMultiplexer> Connect(int port) => ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
    {
        EndPoints = { { "127.0.0.1", port } },
        AbortOnConnectFail = true,
        ConnectTimeout = 15000,
        SyncTimeout = 15000,
        AsyncTimeout = 15000,
        ConfigurationChannel = "",
    });
}
