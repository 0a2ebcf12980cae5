namespace Dynamite.Simulation;

/// <summary>How a set-workload client reads the set before adding its element.</summary>
public enum SetPolicy
{
    /// <summary>The union of every sibling's elements (Dynamo's siblings policy: the client merges): nothing may be lost.</summary>
    Siblings = 1,

    /// <summary>Only the last-writer-wins winner's elements: concurrent adds overwrite each other and elements are lost.</summary>
    LastWriterWins = 2,
}
