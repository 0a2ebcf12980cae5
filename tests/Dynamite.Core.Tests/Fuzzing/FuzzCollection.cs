using Xunit;

namespace Dynamite.Core.Tests.Fuzzing;

/// <summary>
/// The fuzz runs measure retained heap with <see cref="GC.GetTotalMemory(bool)"/>, which counts the whole process.
/// Tests running in parallel in the same process (the Merkle memory test builds a million-key tree) would be counted
/// as the decoder's retention, so the fuzz runs are kept out of parallel execution.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FuzzCollection
{
    public const string Name = "fuzz runs measure the whole process heap";
}
