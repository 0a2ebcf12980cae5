namespace Dynamite.Core.Coordination;

/// <summary>Where a <see cref="GetRequest"/> is.</summary>
public enum GetPhase : byte
{
    /// <summary>Waiting for R replies (or for the quorum to become impossible).</summary>
    AwaitingQuorum = 1,

    /// <summary>The client has its answer; late replies still count for read repair.</summary>
    Answered = 2,

    /// <summary>Every target answered or failed; repair targets are known.</summary>
    Complete = 3,
}
