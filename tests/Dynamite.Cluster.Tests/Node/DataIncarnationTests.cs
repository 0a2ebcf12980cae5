using System.Text;
using Dynamite.Cluster.Node;
using Dynamite.Cluster.State;
using Dynamite.Core.Membership;
using Xunit;

namespace Dynamite.Cluster.Tests.Node;

public sealed class DataIncarnationTests
{
    private static readonly NodeId Node = new("n4");

    [Fact]
    public void NewData_TakesAFreshIncarnation_AndARestartKeepsIt()
    {
        var files = new MemoryNodeStateStore();

        var first = new DataIncarnation(files, new Random(1), Node, volatileData: false);
        var restarted = new DataIncarnation(files, new Random(2), Node, volatileData: false);

        Assert.StartsWith("n4.", first.Actor.Value, StringComparison.Ordinal);
        Assert.Equal(first.Actor, restarted.Actor);
        Assert.Equal(first.Actor.Value + "~", first.TransactionActor.Value);
    }

    [Fact]
    public void Renew_ChangesBothActors_SavesTheNewOneBeforeItIsUsed_AndNeverRepeats()
    {
        // A partition release renews before it deletes: a restart after it must not go back to the old actor, whose
        // dots of the deleted keys live on at their primaries.
        var files = new MemoryNodeStateStore();
        var incarnation = new DataIncarnation(files, new Random(1), Node, volatileData: false);
        var seen = new HashSet<NodeId> { incarnation.Actor };

        for (int i = 0; i < 1000; i++)
        {
            NodeId before = incarnation.TransactionActor;
            incarnation.Renew();
            Assert.True(seen.Add(incarnation.Actor), $"renewal {i} repeated {incarnation.Actor}");
            Assert.NotEqual(before, incarnation.TransactionActor);
            Assert.Equal(incarnation.Actor, new DataIncarnation(files, new Random(3), Node, volatileData: false).Actor);
        }
    }

    [Fact]
    public void VolatileData_TakesANewIncarnationOnEveryStart_AndSavesNothing()
    {
        var files = new MemoryNodeStateStore();

        var first = new DataIncarnation(files, new Random(1), Node, volatileData: true);
        first.Renew();
        var second = new DataIncarnation(files, new Random(2), Node, volatileData: true);

        Assert.NotEqual(first.Actor, second.Actor);
        Assert.False(files.Exists("incarnation"));
    }

    [Fact]
    public void Renew_WithALongNodeId_StaysWithinTheIdLimit()
    {
        var node = new NodeId(new string('a', 50));
        var incarnation = new DataIncarnation(new MemoryNodeStateStore(), new Random(1), node, volatileData: false);

        incarnation.Renew();

        Assert.True(Encoding.UTF8.GetByteCount(incarnation.Actor.Value) <= NodeId.MaxByteLength);
        Assert.True(Encoding.UTF8.GetByteCount(incarnation.TransactionActor.Value) <= NodeId.MaxByteLength);
    }
}
