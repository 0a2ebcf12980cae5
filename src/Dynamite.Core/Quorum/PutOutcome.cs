namespace Dynamite.Core.Quorum;

/// <summary>Where a write's quorum stands. Values are explicit: metrics and logs may record them.</summary>
public enum PutOutcome : byte
{
    /// <summary>Not enough answers yet to decide.</summary>
    Pending = 0,

    /// <summary>W acknowledgements arrived, PW of them from primaries.</summary>
    Ok = 1,

    /// <summary>Too many replicas failed for W (or PW) acknowledgements to ever arrive.</summary>
    Failed = 2,
}
