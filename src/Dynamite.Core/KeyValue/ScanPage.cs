namespace Dynamite.Core.KeyValue;

/// <summary>
/// One page of a scan in key-hash order.
/// <see cref="NextHash"/> is where the next page starts, or null when the scan reached the end of the hash space.
/// </summary>
public sealed record ScanPage(IReadOnlyList<byte[]> Keys, ulong? NextHash);
