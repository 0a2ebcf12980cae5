using Dynamite.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dynamite.Cluster.Expiry;

/// <summary>
/// The active half of expiry (the lazy half is every read treating expired records as absent): like Redis's
/// active expire cycle, it wakes <see cref="SweepsPerSecond"/> times a second and removes up to
/// <see cref="KeysPerSweep"/> expired keys, sweeping again at once while a sweep finds a full batch.
/// </summary>
public sealed class ExpirySweeper(IStorageEngine engine, TimeProvider clock, ILogger<ExpirySweeper> logger) : BackgroundService
{
    public const int SweepsPerSecond = 10;
    public const int KeysPerSweep = 1000;

    /// <summary>Keys removed by sweeps since start (INFO stats: expired_keys).</summary>
    public long ExpiredKeys => Interlocked.Read(ref _expiredKeys);

    private long _expiredKeys;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(1000 / SweepsPerSecond), clock);
        while (await WaitForTickAsync(timer, stoppingToken))
        {
            try
            {
                int removed;
                do
                {
                    removed = await engine.RemoveExpiredAsync(clock.GetUtcNow().ToUnixTimeMilliseconds(), KeysPerSweep, stoppingToken);
                    Interlocked.Add(ref _expiredKeys, removed);
                }
                while (removed == KeysPerSweep && !stoppingToken.IsCancellationRequested);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                // A failed sweep leaves expired keys to the next one (reads already hide them); keep sweeping.
                logger.LogError(exception, "An expiry sweep failed");
            }
        }
    }

    private static async ValueTask<bool> WaitForTickAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
