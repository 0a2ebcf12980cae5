namespace Dynamite.Protocols.Resp.Commands.HyperLogLogOperations;

/// <summary>How a HyperLogLog command found the keys it read.</summary>
internal enum SketchOutcome
{
    /// <summary>Every key was absent or a valid sketch.</summary>
    Ok,

    /// <summary>A key holds a hash or a set (WRONGTYPE).</summary>
    WrongType,

    /// <summary>A key holds a string that is not a sketch (WRONGTYPE Key is not a valid HyperLogLog string value).</summary>
    NotSketch,

    /// <summary>A sparse sketch whose runs do not cover every register (INVALIDOBJ).</summary>
    Corrupt,
}
