using Dynamite.Cluster.Runtime;
using Dynamite.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dynamite.Cluster.Expiry;

/// <summary>
/// The active half of expiry (the lazy half is every read treating expired records as absent): like Redis's
/// active expire cycle, it wakes <see cref="SweepsPerSecond"/> times a second and removes up to
/// <see cref="KeysPerSweep"/> expired keys, sweeping again at once while a sweep finds a full batch. While no key
/// has an expiry it looks only every <see cref="IdleInterval"/>: ten wake-ups a second that find nothing were the
/// largest single source of wake-ups on an idle node. A key given a time to live then waits at most that long
/// before sweeps speed up; it is invisible from its deadline on either way (reads expire lazily), so only the
/// reclaiming of its space can be later. A hosted service of the node, run by a <see cref="BackgroundWorker"/>.
/// </summary>
public sealed class ExpirySweeper : IHostedService, IAsyncDisposable
{
    public const int SweepsPerSecond = 10;
    public const int KeysPerSweep = 1000;

    /// <summary>Time between sweeps while some key has an expiry.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(1000 / SweepsPerSecond);

    /// <summary>Time between looks while no key has an expiry.</summary>
    public static readonly TimeSpan IdleInterval = TimeSpan.FromSeconds(1);

    private readonly IStorageEngine _engine;
    private readonly TimeProvider _clock;
    private readonly BackgroundWorker _worker;
    private long _expiredKeys;

    public ExpirySweeper(IStorageEngine engine, TimeProvider clock, ILogger<ExpirySweeper> logger)
    {
        _engine = engine;
        _clock = clock;
        _worker = new BackgroundWorker("expiry sweeper", Interval, SweepAsync, clock, logger);
    }

    /// <summary>Told the keys each sweep removes while it listens; set once when the node starts.</summary>
    public IExpiredKeysListener? Listener { get; set; }

    /// <summary>Keys removed by sweeps since start (INFO stats: expired_keys).</summary>
    public long ExpiredKeys => Interlocked.Read(ref _expiredKeys);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _worker.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => _worker.StopAsync();

    public ValueTask DisposeAsync() => _worker.DisposeAsync();

    /// <summary>One sweep; returns the time until the next.</summary>
    private async Task<TimeSpan> SweepAsync(CancellationToken stopping)
    {
        // Nothing can expire: skip the round trip through the engine's writer (it would wake its thread), and look
        // again only after the idle interval.
        if (_engine.KeysWithExpiryCount == 0)
        {
            return IdleInterval;
        }

        int removed;
        do
        {
            IExpiredKeysListener? listener = Listener;
            List<byte[]>? keys = listener is { Listening: true } ? [] : null;
            removed = await _engine.RemoveExpiredAsync(_clock.GetUtcNow().ToUnixTimeMilliseconds(), KeysPerSweep, keys, stopping);
            Interlocked.Add(ref _expiredKeys, removed);
            if (keys is { Count: > 0 })
            {
                listener!.Expired(keys);
            }
        }
        while (removed == KeysPerSweep && !stopping.IsCancellationRequested);
        return Interval;
    }
}
