using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Dynamite.IntegrationTests.RealClients;

/// <summary>An <see cref="RedisCache"/> as an application configures it for one node, with the instance prefix "app:".</summary>
internal static class DistributedCaches
{
    public static RedisCache For(int port) => new(Options.Create(new RedisCacheOptions
    {
        ConfigurationOptions = new ConfigurationOptions
        {
            EndPoints = { { "127.0.0.1", port } },
            ConnectTimeout = 15000,
            SyncTimeout = 15000,
            AsyncTimeout = 15000,
            ConfigurationChannel = "",
        },
        InstanceName = "app:",
    }));
}
