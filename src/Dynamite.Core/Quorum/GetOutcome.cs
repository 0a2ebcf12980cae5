namespace Dynamite.Core.Quorum;

/// <summary>Where a read's quorum stands. Values are explicit: metrics and logs may record them.</summary>
public enum GetOutcome : byte
{
    /// <summary>Not enough answers yet to decide.</summary>
    Pending = 0,

    /// <summary>R replies (PR from primaries) arrived and at least one holds a live value.</summary>
    Ok = 1,

    /// <summary>R replies arrived and none holds a live value (missing, or only tombstones).</summary>
    NotFound = 2,

    /// <summary>Too many replicas failed for R (or PR) replies to ever arrive.</summary>
    Failed = 3,

    /// <summary>With agreement required (DC_SAFE_QUORUM), no R replies can agree any more.</summary>
    Disagreement = 4,
}
