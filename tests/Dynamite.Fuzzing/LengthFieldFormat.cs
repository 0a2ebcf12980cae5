namespace Dynamite.Fuzzing;

/// <summary>How a target encodes its length fields, so the mutator can aim at them rather than hope a bit flip lands there.</summary>
public enum LengthFieldFormat
{
    /// <summary>RESP: ASCII decimal after a '*' or '$' marker, up to CRLF.</summary>
    RespDecimal,

    /// <summary>Peer frames: 4-byte big-endian unsigned lengths (the frame prefix and the payload's length prefixes).</summary>
    BigEndianUInt32,
}
