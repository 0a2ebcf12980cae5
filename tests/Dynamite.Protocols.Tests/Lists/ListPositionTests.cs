using Dynamite.Protocols.Resp.Commands.ListOperations;
using Xunit;

namespace Dynamite.Protocols.Tests.Lists;

/// <summary>
/// List positions (Logoot-style): a new one always sorts strictly between its neighbours, byte-wise, whatever the
/// neighbours are and whoever made them, and the ends stay one level long.
/// </summary>
public sealed class ListPositionTests
{
    private static int Compare(byte[] x, byte[] y) => x.AsSpan().SequenceCompareTo(y);

    [Fact]
    public void Pushes_AtEitherEnd_StayOneLevelLong_AndKeepTheirOrder()
    {
        byte[] first = ListPosition.Between([], [], 7, 1);
        byte[] last = first, head = first;
        for (ulong i = 2; i < 1000; i++)
        {
            byte[] appended = ListPosition.Between(last, [], 7, i);
            Assert.True(Compare(last, appended) < 0);
            Assert.Equal(ListPosition.LevelLength, appended.Length);
            last = appended;

            byte[] prepended = ListPosition.Between([], head, 7, i + 5000);
            Assert.True(Compare(prepended, head) < 0);
            Assert.Equal(ListPosition.LevelLength, prepended.Length);
            head = prepended;
        }
    }

    [Fact]
    public void RandomInserts_FromSeveralSites_AlwaysLandStrictlyBetweenTheirNeighbours()
    {
        var random = new Random(16);
        var list = new List<byte[]> { ListPosition.Between([], [], 1, 1) };
        ulong counter = 1;
        for (int i = 0; i < 3000; i++)
        {
            int at = random.Next(list.Count + 1);
            byte[] lower = at == 0 ? [] : list[at - 1];
            byte[] upper = at == list.Count ? [] : list[at];
            ulong site = (ulong)random.Next(3);
            byte[] made = ListPosition.Between(lower, upper, site, ++counter);
            Assert.True(ListPosition.IsValid(made));
            Assert.True(lower.Length == 0 || Compare(lower, made) < 0, $"not after its lower neighbour at {at}");
            Assert.True(upper.Length == 0 || Compare(made, upper) < 0, $"not before its upper neighbour at {at}");
            list.Insert(at, made);
        }

        // Inserting always between adjacent positions keeps the list sorted, and no position repeats.
        for (int i = 1; i < list.Count; i++)
        {
            Assert.True(Compare(list[i - 1], list[i]) < 0);
        }
    }

    [Fact]
    public void ConcurrentPushes_AtTheSameEnd_ByTwoSites_DifferAndBothFollowTheTail()
    {
        byte[] tail = ListPosition.Between([], [], 1, 1);
        byte[] mine = ListPosition.Between(tail, [], 1, 2);
        byte[] theirs = ListPosition.Between(tail, [], 2, 2);
        Assert.NotEqual(mine, theirs);
        Assert.True(Compare(tail, mine) < 0);
        Assert.True(Compare(tail, theirs) < 0);

        // Anything can still go between the two.
        (byte[] low, byte[] high) = Compare(mine, theirs) < 0 ? (mine, theirs) : (theirs, mine);
        byte[] between = ListPosition.Between(low, high, 3, 9);
        Assert.True(Compare(low, between) < 0 && Compare(between, high) < 0);
    }
}
