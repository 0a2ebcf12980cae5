using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp;

/// <summary>Integer parsing with Redis's exact acceptance rules (string2ll). Floats: <see cref="ExtendedFloat"/>.</summary>
internal static class RespNumbers
{
    /// <summary>Redis string2ll (<see cref="RedisIntegers.TryParse"/>).</summary>
    public static bool TryParseInt64(ReadOnlySpan<byte> text, out long value) => RedisIntegers.TryParse(text, out value);
}
