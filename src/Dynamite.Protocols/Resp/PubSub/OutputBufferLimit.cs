namespace Dynamite.Protocols.Resp.PubSub;

/// <summary>
/// Redis's <c>client-output-buffer-limit</c> for one client class: a client whose unsent output passes
/// <see cref="HardBytes"/>, or stays above <see cref="SoftBytes"/> for <see cref="SoftSeconds"/>, is disconnected.
/// Zero turns a bound off. The defaults are redis-server's for pub/sub clients (32mb 8mb 60).
/// </summary>
public sealed record OutputBufferLimit(long HardBytes = 32L * 1024 * 1024, long SoftBytes = 8L * 1024 * 1024, int SoftSeconds = 60)
{
    /// <summary>The most a client may buffer even with every configured bound off: memory stays bounded whatever CONFIG SET says.</summary>
    public const long AbsoluteMaxBytes = 1024L * 1024 * 1024;

    /// <summary>True when a client holding <paramref name="bytes"/>, above the soft bound since <paramref name="softSinceMs"/> (or never), must go.</summary>
    public bool IsExceeded(long bytes, long softSinceMs, long nowMs) =>
        bytes > AbsoluteMaxBytes
        || (HardBytes > 0 && bytes > HardBytes)
        || (SoftBytes > 0 && bytes > SoftBytes && softSinceMs >= 0 && nowMs - softSinceMs >= SoftSeconds * 1000L);
}
