using Dynamite.Protocols.Tests.Infrastructure;
using Xunit;

namespace Dynamite.Protocols.Tests.Keys;

/// <summary>A standalone node answers CLUSTER as a redis-server without cluster support does, so clients treat it as one server.</summary>
public sealed class ClusterCommandStandaloneTests : StandaloneNodeTests
{
    [Theory]
    [InlineData("KEYSLOT", "foo")]
    [InlineData("NODES")]
    [InlineData("SLOTS")]
    public async Task Cluster_OnAStandaloneNode_IsDisabled(params string[] arguments) =>
        await Expect("-ERR This instance has cluster support disabled\r\n", ["CLUSTER", .. arguments]);
}
