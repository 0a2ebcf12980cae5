using Xunit;

namespace Dynamite.Protocols.Tests;

/// <summary>
/// Tests that measure the whole process (retained heap with <see cref="GC.GetTotalMemory(bool)"/>, allocations
/// with <see cref="GC.GetTotalAllocatedBytes(bool)"/>) would count what tests running in parallel allocate, so
/// they run in this collection, outside parallel execution.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessMeasurementCollection
{
    public const string Name = "tests that measure the whole process";
}
