namespace Dynamite.Core.Coordination;

/// <summary>What the coordinator must do after feeding an event into a <see cref="GetRequest"/>.</summary>
[Flags]
public enum GetStep
{
    None = 0,

    /// <summary>Answer the client now, from <see cref="GetRequest.Outcome"/> and <see cref="GetRequest.Merged"/>.</summary>
    Answer = 1,

    /// <summary>Send <see cref="GetRequest.Merged"/> to each of <see cref="GetRequest.RepairTargets"/>.</summary>
    Repair = 2,

    /// <summary>Ask <see cref="GetRequest.NextTarget"/>, in place of a target that failed.</summary>
    Ask = 4,
}
