namespace Dynamite.Simulation;

/// <summary>The faults a run may inject; a run draws among the enabled ones with its seeded random.</summary>
[Flags]
public enum FaultKinds
{
    None = 0,

    /// <summary>Messages are dropped at random.</summary>
    Loss = 1,

    /// <summary>Messages are delivered twice at random.</summary>
    Duplication = 2,

    /// <summary>Some messages take much longer than the others, so later ones overtake them.</summary>
    Reordering = 4,

    /// <summary>One node is cut off from all the others, both ways.</summary>
    PartitionOne = 8,

    /// <summary>The cluster splits into two halves that cannot talk.</summary>
    PartitionHalves = 16,

    /// <summary>One node's messages to the others are lost, theirs to it still arrive.</summary>
    PartitionOneWay = 32,

    /// <summary>A node crashes and restarts with its storage (store and hints) kept.</summary>
    CrashKeep = 64,

    /// <summary>A node crashes and restarts with its storage wiped (a new incarnation, so a new actor id).</summary>
    CrashWipe = 128,

    /// <summary>A node stops processing for a while (a long GC or a VM pause), then catches up.</summary>
    Pause = 256,

    /// <summary>A node's wall clock (the write timestamps last-writer-wins compares) is off by up to seconds.</summary>
    ClockSkew = 512,

    All = Loss | Duplication | Reordering | PartitionOne | PartitionHalves | PartitionOneWay | CrashKeep | CrashWipe | Pause | ClockSkew,
}
