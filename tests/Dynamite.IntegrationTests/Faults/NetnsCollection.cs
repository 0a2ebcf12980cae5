using Xunit;

namespace Dynamite.IntegrationTests.Faults;

/// <summary>
/// The network-namespace fault tests run alone: they measure detection times and client latency in seconds,
/// and other test classes competing for the same two cores would make those numbers about the machine.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NetnsCollection
{
    public const string Name = "netns";
}
