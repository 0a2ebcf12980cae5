using System.Text;
using Dynamite.Core.DataTypes;
using Dynamite.Core.Membership;
using Dynamite.Core.Versioning;
using Xunit;

namespace Dynamite.Core.Tests.DataTypes;

/// <summary>
/// The element join and the deltas commands make (docs/DATA-TYPES.md): add-wins observed-remove presence,
/// last-writer-wins registers, counters that never lose an increment, and convergence however deltas travel.
/// </summary>
public sealed class ElementStateTests
{
    private static readonly NodeId A = new("a");
    private static readonly NodeId B = new("b");
    private static readonly NodeId C = new("c");

    [Fact]
    public void ConcurrentAddAndRemove_AddWins()
    {
        KeyReplica a = new(A), b = new(B);
        Ship(a.Coordinate("m", Add(A, 1)), b);

        // b removes what it saw while a adds the member again, concurrently.
        var remove = b.Coordinate("m", static (state, _) => ElementDelta.Remove(state));
        var add = a.Coordinate("m", Add(A, 2));
        Ship(remove, a);
        Ship(add, b);

        Assert.True(a.Get("m").IsPresent);
        Assert.True(a.SameAs(b));
    }

    [Fact]
    public void ObservedRemove_IsNotUndoneByAReplicaThatStillHoldsTheMember()
    {
        KeyReplica a = new(A), b = new(B), c = new(C);
        var add = a.Coordinate("m", Add(A, 1));
        Ship(add, b);
        Ship(add, c);

        Ship(b.Coordinate("m", static (state, _) => ElementDelta.Remove(state)), a);

        // c missed the remove and still holds the member; a full-state exchange must not resurrect it.
        a.JoinFrom(c);
        c.JoinFrom(a);
        Assert.False(a.Get("m").IsPresent);
        Assert.False(c.Get("m").IsPresent);
    }

    [Fact]
    public void ConcurrentRegisterWrites_LastWriterWinsTheSameOnEveryReplica()
    {
        KeyReplica a = new(A), b = new(B);
        var early = a.Coordinate("f", Set(A, 100, "early"));
        var late = b.Coordinate("f", Set(B, 200, "late"));
        Ship(early, b);
        Ship(late, a);

        Assert.Equal("late", Text(a.Get("f").RegisterWinner()));
        Assert.Equal("late", Text(b.Get("f").RegisterWinner()));
        Assert.Equal(2, a.Get("f").Writes.Length);
    }

    [Fact]
    public void IncrementsFromEveryNode_AllCount()
    {
        KeyReplica[] replicas = [new(A), new(B), new(C)];
        var deltas = new List<(KeyReplica From, (string, ElementDelta) Delta)>();
        for (int i = 0; i < 30; i++)
        {
            KeyReplica coordinator = replicas[i % 3];
            deltas.Add((coordinator, coordinator.Coordinate("n", Increment(coordinator.Actor, 1))));
        }

        foreach ((KeyReplica from, (string, ElementDelta) delta) in deltas)
        {
            foreach (KeyReplica replica in replicas.Where(r => r != from))
            {
                Ship(delta, replica);
            }
        }

        foreach (KeyReplica replica in replicas)
        {
            Assert.Equal((Int128)30, replica.Get("n").CountSum());
        }
    }

    [Fact]
    public void Set_ResetsTheIncrementsItSaw_AndKeepsConcurrentOnes()
    {
        KeyReplica a = new(A), b = new(B);
        Ship(a.Coordinate("n", Increment(A, 5)), b);

        // b sets the value having seen a's +5; a concurrently adds 2 more.
        var set = b.Coordinate("n", Set(B, 1_000, "10"));
        var increment = a.Coordinate("n", Increment(A, 2));
        Ship(set, a);
        Ship(increment, b);

        // 10 from the SET, plus the +2 it did not see; the +5 it saw is zeroed.
        foreach (KeyReplica replica in new[] { a, b })
        {
            Assert.Equal("10", Text(replica.Get("n").RegisterWinner()));
            Assert.Equal((Int128)2, replica.Get("n").CountSum());
        }

        Assert.True(a.SameAs(b));

        // a's next increment continues its chain: +1 more, still measured from the reset.
        Ship(a.Coordinate("n", Increment(A, 1)), b);
        Assert.Equal((Int128)3, b.Get("n").CountSum());
    }

    [Fact]
    public void RemoveConcurrentWithIncrement_KeepsTheElementWithOnlyTheUnseenIncrements()
    {
        KeyReplica a = new(A), b = new(B);
        Ship(a.Coordinate("f", Increment(A, 5)), b);

        var remove = b.Coordinate("f", static (state, _) => ElementDelta.Remove(state));
        var increment = a.Coordinate("f", Increment(A, 1));
        Ship(remove, a);
        Ship(increment, b);

        foreach (KeyReplica replica in new[] { a, b })
        {
            Assert.True(replica.Get("f").IsPresent);
            Assert.Null(replica.Get("f").RegisterWinner());
            Assert.Equal((Int128)1, replica.Get("f").CountSum());
        }
    }

    [Fact]
    public void IncrementAfterARemoveEveryoneSaw_StartsAFreshChain()
    {
        KeyReplica a = new(A), b = new(B);
        Ship(a.Coordinate("f", Increment(A, 5)), b);
        Ship(b.Coordinate("f", static (state, _) => ElementDelta.Remove(state)), a);
        Assert.False(a.Get("f").IsPresent);

        Ship(a.Coordinate("f", Increment(A, 1)), b);

        Assert.Equal((Int128)1, a.Get("f").CountSum());
        Assert.Equal((Int128)1, b.Get("f").CountSum());
    }

    [Fact]
    public void Decrements_AndFloatIncrements_AreSummed()
    {
        KeyReplica a = new(A), b = new(B);
        Ship(a.Coordinate("n", Increment(A, 10)), b);
        Ship(b.Coordinate("n", static (state, context) => ElementDelta.Increment(state, context, B, 0, -3, 0.5)), a);
        Ship(a.Coordinate("n", static (state, context) => ElementDelta.Increment(state, context, A, 0, 0, -0.25)), b);

        foreach (KeyReplica replica in new[] { a, b })
        {
            Assert.Equal((Int128)7, replica.Get("n").CountSum());
            Assert.Equal(0.25, replica.Get("n").FloatCountSum());
            Assert.True(replica.Get("n").HasFloatCount());
        }
    }

    [Fact]
    public void Increment_OverflowOfTheChainsTotals_Throws()
    {
        KeyReplica a = new(A);
        a.Coordinate("n", Increment(A, long.MaxValue));

        Assert.Throws<OverflowException>(() => a.Coordinate("n", Increment(A, 1)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void RandomHistories_DeltasLostDuplicatedOrReordered_ConvergeAfterAntiEntropy(int seed)
    {
        var random = new Random(seed);
        KeyReplica[] replicas = [new(A), new(B), new(C)];
        var inFlight = new List<(KeyReplica To, string Element, ElementDelta Delta)>();
        long clock = 1_000;
        for (int step = 0; step < 400; step++)
        {
            clock += random.Next(0, 2);
            if (inFlight.Count > 0 && random.Next(3) == 0)
            {
                int index = random.Next(inFlight.Count);
                (KeyReplica target, string name, ElementDelta pending) = inFlight[index];
                target.Apply(name, pending);
                if (random.Next(4) != 0)
                {
                    inFlight.RemoveAt(index); // else delivered again later: a duplicate
                }

                continue;
            }

            if (random.Next(20) == 0)
            {
                replicas[random.Next(3)].JoinFrom(replicas[random.Next(3)]);
                continue;
            }

            KeyReplica coordinator = replicas[random.Next(3)];
            string member = $"m{random.Next(4)}";
            long now = clock;
            NodeId actor = coordinator.Actor;
            Func<ElementState, DotContext, ElementDelta> command = random.Next(4) switch
            {
                0 => (state, context) => ElementDelta.Assign(state, context, actor, now, null),
                1 => (state, _) => ElementDelta.Remove(state),
                2 => (state, context) => ElementDelta.Assign(state, context, actor, now, Encoding.ASCII.GetBytes($"v{now}")),
                _ => (state, context) => ElementDelta.Increment(state, context, actor, now, 1),
            };
            (string changed, ElementDelta made) = coordinator.Coordinate(member, command);
            foreach (KeyReplica replica in replicas.Where(r => r != coordinator && random.Next(5) != 0))
            {
                inFlight.Add((replica, changed, made));
            }
        }

        // Deltas still in flight may land before or after the exchange: joins commute.
        foreach ((KeyReplica to, string element, ElementDelta delta) in inFlight.Where(_ => random.Next(2) == 0))
        {
            to.Apply(element, delta);
        }

        foreach (KeyReplica from in replicas)
        {
            foreach (KeyReplica to in replicas)
            {
                to.JoinFrom(from);
            }
        }

        Assert.True(replicas[0].SameAs(replicas[1]), "a and b differ");
        Assert.True(replicas[1].SameAs(replicas[2]), "b and c differ");
        foreach (ElementState state in replicas[0].Elements.Values)
        {
            Assert.All(state.Writes, write => Assert.True(replicas[0].Context.Covers(write.Dot)));
        }
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    public void IncrementsOnly_DeltasLostDuplicatedOrReordered_NoIncrementIsLost(int seed)
    {
        var random = new Random(seed);
        KeyReplica[] replicas = [new(A), new(B), new(C)];
        var inFlight = new List<(KeyReplica To, ElementDelta Delta)>();
        long expected = 0;
        for (int step = 0; step < 600; step++)
        {
            if (inFlight.Count > 0 && random.Next(2) == 0)
            {
                int index = random.Next(inFlight.Count);
                inFlight[index].To.Apply("n", inFlight[index].Delta);
                if (random.Next(3) != 0)
                {
                    inFlight.RemoveAt(index);
                }

                continue;
            }

            KeyReplica coordinator = replicas[random.Next(3)];
            long by = random.Next(-3, 10);
            expected += by;
            (_, ElementDelta made) = coordinator.Coordinate("n", (state, context) => ElementDelta.Increment(state, context, coordinator.Actor, step, by));
            foreach (KeyReplica replica in replicas.Where(r => r != coordinator && random.Next(3) != 0))
            {
                inFlight.Add((replica, made));
            }
        }

        foreach (KeyReplica from in replicas)
        {
            foreach (KeyReplica to in replicas)
            {
                to.JoinFrom(from);
            }
        }

        Assert.All(replicas, replica => Assert.Equal((Int128)expected, replica.Get("n").CountSum()));
    }

    [Fact]
    public void Join_IsCommutativeAssociativeAndIdempotent_OverStatesOfOneHistory()
    {
        var random = new Random(42);
        for (int round = 0; round < 100; round++)
        {
            KeyReplica[] replicas = [new(A), new(B), new(C)];
            long clock = 0;
            for (int step = 0; step < 30; step++)
            {
                KeyReplica coordinator = replicas[random.Next(3)];
                NodeId actor = coordinator.Actor;
                long now = ++clock;
                var made = coordinator.Coordinate("e", random.Next(3) switch
                {
                    0 => (Func<ElementState, DotContext, ElementDelta>)((state, context) => ElementDelta.Assign(state, context, actor, now, [(byte)now])),
                    1 => (state, _) => ElementDelta.Remove(state),
                    _ => (state, context) => ElementDelta.Increment(state, context, actor, now, 2),
                });
                if (random.Next(2) == 0)
                {
                    Ship(made, replicas[random.Next(3)]);
                }
            }

            (ElementState x, DotContext cx) = (replicas[0].Get("e"), replicas[0].Context);
            (ElementState y, DotContext cy) = (replicas[1].Get("e"), replicas[1].Context);
            (ElementState z, DotContext cz) = (replicas[2].Get("e"), replicas[2].Context);

            Assert.Equal(ElementState.Join(x, cx, y, cy), ElementState.Join(y, cy, x, cx));
            Assert.Equal(
                ElementState.Join(ElementState.Join(x, cx, y, cy), cx.Union(cy), z, cz),
                ElementState.Join(x, cx, ElementState.Join(y, cy, z, cz), cy.Union(cz)));
            Assert.Equal(x, ElementState.Join(x, cx, x, cx));
        }
    }

    [Fact]
    public void Encoding_RoundTripsEveryKindOfWrite()
    {
        ElementState state = ElementState.Of(
        [
            new ElementWrite(new Dot(A, 1), 1_700_000_000_000, Encoding.ASCII.GetBytes("value")),
            new ElementWrite(new Dot(B, 7), -5, null, new CounterTotals(new Dot(B, 2), 42, 3, 0.25, 0)),
            new ElementWrite(new Dot(C, 3), 0, null),
            new ElementWrite(new Dot(C, 4), 9, []),
        ],
        [new CounterTotals(new Dot(A, 9), 1, 0, 0, 0), new CounterTotals(new Dot(B, 2), 40, 3, 0, 0.5)]);

        byte[] bytes = state.Encode();

        Assert.Equal(state, ElementState.Decode(bytes));
        Assert.Equal(state.GetEncodedLength(), bytes.Length);
        Assert.Equal(ElementState.Empty, ElementState.Decode(ElementState.Empty.Encode()));
    }

    [Fact]
    public void Decode_MalformedInput_IsAFormatErrorNeverACrash()
    {
        byte[] bytes = ElementState.Of(
            [new ElementWrite(new Dot(A, 1), 5, [1, 2, 3]), new ElementWrite(new Dot(A, 2), 5, null, new CounterTotals(new Dot(A, 2), 4, 1, 1.5, 0))],
            [new CounterTotals(new Dot(B, 1), 2, 0, 0, 0)]).Encode();
        for (int length = 0; length < bytes.Length; length++)
        {
            Assert.Throws<FormatException>(() => ElementState.Decode(bytes.AsSpan(0, length)));
        }

        Assert.Throws<FormatException>(() => ElementState.Decode([.. bytes, 0]));
        Assert.Throws<FormatException>(() => ElementState.Decode([2, .. bytes[1..]]));
        var random = new Random(5);
        for (int i = 0; i < 2_000; i++)
        {
            byte[] noise = (byte[])bytes.Clone();
            noise[random.Next(noise.Length)] = (byte)random.Next(256);
            try
            {
                ElementState.Decode(noise);
            }
            catch (FormatException)
            {
            }
        }
    }

    private static Func<ElementState, DotContext, ElementDelta> Add(NodeId actor, long now) =>
        (state, context) => ElementDelta.Assign(state, context, actor, now, null);

    private static Func<ElementState, DotContext, ElementDelta> Set(NodeId actor, long now, string value) =>
        (state, context) => ElementDelta.Assign(state, context, actor, now, Encoding.ASCII.GetBytes(value));

    private static Func<ElementState, DotContext, ElementDelta> Increment(NodeId actor, long by) =>
        (state, context) => ElementDelta.Increment(state, context, actor, 0, by);

    private static void Ship((string Element, ElementDelta Delta) made, KeyReplica to) => to.Apply(made.Element, made.Delta);

    private static string? Text(ElementWrite? write) => write?.Value is null ? null : Encoding.ASCII.GetString(write.Value);
}
