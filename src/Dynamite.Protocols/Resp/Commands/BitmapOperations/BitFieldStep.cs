namespace Dynamite.Protocols.Resp.Commands.BitmapOperations;

internal enum BitFieldOpcode
{
    Get,
    Set,
    IncrBy,
}

/// <summary>What BITFIELD does when a SET or INCRBY leaves the field's range (its OVERFLOW subcommand).</summary>
internal enum BitFieldOverflow
{
    Wrap,
    Saturate,
    Fail,
}

/// <summary>One GET, SET or INCRBY of a BITFIELD command: a <paramref name="Bits"/>-wide field at bit <paramref name="Offset"/>.</summary>
internal readonly record struct BitFieldStep(BitFieldOpcode Opcode, long Offset, int Bits, bool Signed, long Argument, BitFieldOverflow Overflow);
