using System.Collections.Concurrent;

namespace Dynamite.Protocols.Resp.Acl;

/// <summary>
/// Slows password guessing down: failed AUTHs are counted per client address (all its connections together), and past
/// <see cref="FreeFailures"/> in a minute each further failure is answered only after a delay that doubles, up to
/// <see cref="MaxDelay"/>. A success from the address forgets its failures. Redis has no such brake; a client that
/// mistypes a password a few times never meets it. The table is bounded: past <see cref="MaxAddresses"/> it forgets the
/// addresses whose window has passed, and if that is not enough, all of them.
/// </summary>
internal sealed class AuthFailureThrottle(TimeProvider clock)
{
    public const int FreeFailures = 10;
    public const int MaxAddresses = 10_000;
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan BaseDelay = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, Failures> _byAddress = new(StringComparer.Ordinal);

    /// <summary>Counts a failed AUTH from <paramref name="remoteAddress"/> ("ip:port"); returns how long to wait before answering.</summary>
    public TimeSpan OnFailure(string remoteAddress)
    {
        long now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        if (_byAddress.Count >= MaxAddresses)
        {
            Forget(now);
        }

        Failures failures = _byAddress.AddOrUpdate(
            HostOf(remoteAddress),
            static (_, now) => new Failures(1, now),
            static (_, known, now) => now - known.WindowStartUnixMs > Window.TotalMilliseconds ? new Failures(1, now) : known with { Count = known.Count + 1 },
            now);
        int excess = failures.Count - FreeFailures;
        return excess <= 0 ? TimeSpan.Zero : TimeSpan.FromTicks(Math.Min(MaxDelay.Ticks, BaseDelay.Ticks << Math.Min(excess - 1, 16)));
    }

    public void OnSuccess(string remoteAddress) => _byAddress.TryRemove(HostOf(remoteAddress), out _);

    /// <summary>The address without its port: "127.0.0.1:5000" is "127.0.0.1", "[::1]:5000" is "[::1]".</summary>
    private static string HostOf(string remoteAddress)
    {
        int colon = remoteAddress.LastIndexOf(':');
        return colon > 0 && !remoteAddress.EndsWith(']') ? remoteAddress[..colon] : remoteAddress;
    }

    private void Forget(long now)
    {
        foreach (KeyValuePair<string, Failures> entry in _byAddress)
        {
            if (now - entry.Value.WindowStartUnixMs > Window.TotalMilliseconds)
            {
                _byAddress.TryRemove(entry.Key, out _);
            }
        }

        if (_byAddress.Count >= MaxAddresses)
        {
            _byAddress.Clear();
        }
    }

    private readonly record struct Failures(int Count, long WindowStartUnixMs);
}
