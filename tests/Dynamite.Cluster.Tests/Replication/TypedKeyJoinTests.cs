using System.Text;
using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Versioning;
using Dynamite.Storage.Memory;
using Xunit;

namespace Dynamite.Cluster.Tests.Replication;

/// <summary>
/// <see cref="TypedKeyJoin"/> over real memory engines: replicas that coordinate commands and receive each other's
/// <see cref="KeyDelta"/>s in any order, duplicated, end with the same stored header and elements.
/// </summary>
public sealed class TypedKeyJoinTests : IAsyncLifetime
{
    private const long Now = 1_700_000_000_000;
    private static readonly byte[] Key = Encoding.UTF8.GetBytes("h");

    private readonly Replica[] _replicas = [new(new NodeId("a")), new(new NodeId("b")), new(new NodeId("c"))];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (Replica replica in _replicas)
        {
            await replica.Engine.DisposeAsync();
        }
    }

    [Fact]
    public void KeyDelta_EncodeDecode_RoundTrips()
    {
        var header = KeyHeader.Create(DataType.Hash, new Stamp(Now, new Dot(new NodeId("a"), 1)));
        ElementDelta assign = ElementDelta.Assign(ElementState.Empty, DotContext.Empty, new NodeId("a"), Now, [1, 2]);
        var delta = new KeyDelta(header.WithContext(DotContext.Of([new Dot(new NodeId("a"), 1)])), [new([7], assign), new([], ElementDelta.Remove(ElementState.Empty))], removesObserved: true);

        KeyDelta decoded = KeyDelta.Decode(delta.Encode());

        Assert.Equal(delta.Header, decoded.Header);
        Assert.True(decoded.RemovesObserved);
        Assert.Equal(2, decoded.Elements.Length);
        Assert.Equal(assign, decoded.Elements[0].Value);
        Assert.Equal([7], decoded.Elements[0].Key);
        Assert.Empty(decoded.Elements[1].Key);
        Assert.Throws<FormatException>(() => KeyDelta.Decode(delta.Encode().AsSpan(0, 5)));
        Assert.Throws<FormatException>(() => KeyDelta.Decode([.. delta.Encode(), 0]));
    }

    [Fact]
    public void KeyDelta_WithARemovalScope_RoundTripsAndIsNeverJoinedIntoAnotherDelta()
    {
        var header = KeyHeader.Create(DataType.Set, new Stamp(Now, new Dot(new NodeId("a"), 1)));
        foreach (ElementRange scope in new[] { new ElementRange(null, [5]), new ElementRange([5], [9, 9]), new ElementRange([9, 9], null), new ElementRange([], null) })
        {
            KeyDelta page = KeyDelta.WholeKeyPage(header, [new([6], ElementState.Empty)], scope);
            byte[] encoded = page.Encode();

            KeyDelta decoded = KeyDelta.Decode(encoded);

            Assert.Equal(scope.After, decoded.RemovalScope!.After);
            Assert.Equal(scope.Through, decoded.RemovalScope.Through);
            Assert.Equal(encoded, decoded.Encode());
            for (int cut = 0; cut < encoded.Length; cut++)
            {
                Assert.Throws<FormatException>(() => KeyDelta.Decode(encoded.AsSpan(0, cut)));
            }

            Assert.Throws<ArgumentException>(() => KeyDelta.Join(page, page));
        }

        Assert.Null(KeyDelta.Decode(KeyDelta.WholeKey(header, []).Encode()).RemovalScope);
    }

    [Fact]
    public async Task WholeKeyPages_JoinedInOrder_LeaveWhatTheWholeKeyLeaves_AndAPageWithoutTheElementsPassDropsElements()
    {
        // a holds a hash of five fields, b an older copy (with a field a removed since, without a's two later adds).
        Replica a = _replicas[0], b = _replicas[1], c = _replicas[2];
        foreach (string member in new[] { "m1", "m2", "m3", "m4" })
        {
            KeyDelta add = await a.CoordinateAsync(member, (state, context, actor) => ElementDelta.Assign(state, context, actor, Now, [1]));
            await b.ApplyAsync(add);
            await c.ApplyAsync(add);
        }

        await a.BuildAsync(builder => builder.Remove(Encoding.UTF8.GetBytes("m2")));
        foreach (string member in new[] { "m5", "m6" })
        {
            await a.CoordinateAsync(member, (state, context, actor) => ElementDelta.Assign(state, context, actor, Now, [2]));
        }

        KeyHeader header = a.Header()!;
        var elements = a.Engine.ScanElements(Key, null, 1000).Elements.Select(e => new KeyValuePair<byte[], ElementState>(e.Name, ElementState.Decode(e.Value))).ToList();
        var pages = new[] { elements[..2], elements[2..4], elements[4..] };
        ElementRange[] scopes = [new(null, pages[0][^1].Key), new(pages[0][^1].Key, pages[1][^1].Key), new(pages[1][^1].Key, null)];

        // b: every element first, then each page with the header's context and its scoped remove: as the whole key.
        foreach (var page in pages)
        {
            await b.ApplyAsync(KeyDelta.ElementsOnly(header, page));
        }

        for (int i = 0; i < pages.Length; i++)
        {
            await b.ApplyAsync(KeyDelta.WholeKeyPage(header, pages[i], scopes[i]));
        }

        await c.ApplyAsync(a.WholeKey());
        Assert.Equal(c.Describe(), b.Describe());
        Assert.Equal(5, b.PresentElements());

        // Without the elements pass, the first page's context marks later pages' new members as seen and removed.
        Replica d = new(new NodeId("d"));
        for (int i = 0; i < pages.Length; i++)
        {
            await d.ApplyAsync(KeyDelta.WholeKeyPage(header, pages[i], scopes[i]));
        }

        Assert.True(d.PresentElements() < 5);
    }

    [Fact]
    public async Task Apply_DeltasDeliveredInAnyOrderAndTwice_EveryReplicaEndsTheSame()
    {
        var random = new Random(11);
        for (int round = 0; round < 30; round++)
        {
            var shipped = new List<(Replica From, KeyDelta Delta)>();
            for (int step = 0; step < 40; step++)
            {
                Replica coordinator = _replicas[random.Next(_replicas.Length)];
                string field = "f" + random.Next(6);
                KeyDelta delta = random.Next(4) switch
                {
                    0 => await coordinator.CoordinateAsync(field, (state, context, actor) => ElementDelta.Remove(state)),
                    1 => await coordinator.CoordinateAsync(field, (state, context, actor) => ElementDelta.Increment(state, context, actor, Now + step, random.Next(1, 5))),
                    _ => await coordinator.CoordinateAsync(field, (state, context, actor) => ElementDelta.Assign(state, context, actor, Now + step, [(byte)step])),
                };
                shipped.Add((coordinator, delta));

                // Some deltas arrive at once, the rest only at the end: replicas coordinate from diverged states.
                if (random.Next(2) == 0)
                {
                    foreach (Replica other in _replicas.Where(r => r != coordinator))
                    {
                        await other.ApplyAsync(delta);
                    }
                }
            }

            foreach (Replica replica in _replicas)
            {
                foreach ((Replica from, KeyDelta delta) in shipped.OrderBy(_ => random.Next()))
                {
                    if (from != replica)
                    {
                        await replica.ApplyAsync(delta);
                    }
                }
            }

            string expected = _replicas[0].Describe();
            Assert.All(_replicas, replica => Assert.Equal(expected, replica.Describe()));
            Assert.All(_replicas, replica => Assert.Equal(replica.PresentElements(), replica.StoredCount()));
            Assert.All(_replicas, replica => Assert.Equal(replica.RecomputedDigest(), replica.StoredDigest()));
        }
    }

    [Fact]
    public async Task Apply_AReplicaThatMissedARemove_StoresARecordThatDiffers_UntilTheWholeKeyJoinsIt()
    {
        // The lost remove the simulation found (docs/simulation-findings-2026-12-07.md): b missed a's remove of m, then
        // both saw m added again. A remove mints no dot, so both headers (and counts) are equal while b still holds
        // the removed write; only the element digest tells anti-entropy, which hashes the record, that they differ.
        Replica a = _replicas[0], b = _replicas[1];
        await b.ApplyAsync(await a.CoordinateAsync("m", (s, c, actor) => ElementDelta.Assign(s, c, actor, Now, [1])));
        await a.CoordinateAsync("m", (s, _, _) => ElementDelta.Remove(s));
        await b.ApplyAsync(await a.CoordinateAsync("m", (s, c, actor) => ElementDelta.Assign(s, c, actor, Now + 1, [2])));

        Assert.Equal(a.Header(), b.Header());
        Assert.Equal(a.StoredCount(), b.StoredCount());
        Assert.NotEqual(a.Describe(), b.Describe());
        Assert.NotEqual(a.RecordBytes(), b.RecordBytes());

        await b.ApplyAsync(a.WholeKey());

        Assert.Equal(a.Describe(), b.Describe());
        Assert.Equal(a.RecordBytes(), b.RecordBytes());
        Assert.Equal(b.RecomputedDigest(), b.StoredDigest());
    }

    [Fact]
    public async Task Apply_ToARecordWithoutADigest_ComputesItFromTheElements()
    {
        // A standalone node's record, or one stored before digests, carries none; the first join computes it.
        Replica a = _replicas[0];
        await a.CoordinateAsync("x", (s, c, actor) => ElementDelta.Assign(s, c, actor, Now, [1]));
        await a.CoordinateAsync("y", (s, c, actor) => ElementDelta.Assign(s, c, actor, Now, [2]));
        ulong kept = a.StoredDigest()!.Value;
        await a.ExecuteAsync(tx =>
        {
            Assert.True(tx.TryRead(Key, out StoredRecord record));
            tx.Write(Key, (TypedKeyRecord.Decode(record.Value) with { ElementDigest = null }).ToStoredRecord());
        });
        Assert.Null(a.StoredDigest());

        await a.CoordinateAsync("z", (s, c, actor) => ElementDelta.Assign(s, c, actor, Now, [3]));

        Assert.Equal(a.RecomputedDigest(), a.StoredDigest());
        Assert.NotEqual(kept, a.StoredDigest());
        Assert.Equal(3, a.StoredCount());
    }

    [Fact]
    public async Task Join_DeltasJoinedInRandomGroups_LeaveWhatApplyingEachLeaves()
    {
        var random = new Random(23);
        for (int round = 0; round < 40; round++)
        {
            Replica[] coordinators = [new(new NodeId("a")), new(new NodeId("b")), new(new NodeId("c"))];
            Replica each = new(new NodeId("x")), joined = new(new NodeId("y"));
            var shipped = new List<KeyDelta>();
            for (int step = 0; step < 30; step++)
            {
                Replica coordinator = coordinators[random.Next(coordinators.Length)];
                string field = "f" + random.Next(5);
                KeyDelta delta = random.Next(6) switch
                {
                    0 => await coordinator.CoordinateAsync(field, (state, context, actor) => ElementDelta.Remove(state)),
                    1 => await coordinator.CoordinateAsync(field, (state, context, actor) => ElementDelta.Increment(state, context, actor, Now + step, random.Next(1, 5))),
                    2 when coordinator.Header() is { } current => await coordinator.RemoveObservedAsync(current),
                    _ => await coordinator.CoordinateAsync(field, (state, context, actor) => ElementDelta.Assign(state, context, actor, Now + step, [(byte)step])),
                };
                shipped.Add(delta);
                if (random.Next(2) == 0)
                {
                    foreach (Replica other in coordinators.Where(r => r != coordinator))
                    {
                        await other.ApplyAsync(delta);
                    }
                }
            }

            List<KeyDelta> order = [.. shipped.OrderBy(_ => random.Next())];
            foreach (KeyDelta delta in order)
            {
                await each.ApplyAsync(delta);
            }

            // A hint's way: consecutive deltas joined into one, in groups of random sizes.
            for (int start = 0; start < order.Count;)
            {
                int size = Math.Min(order.Count - start, random.Next(1, 8));
                await joined.ApplyAsync(order.Skip(start).Take(size).Aggregate(KeyDelta.Join));
                start += size;
            }

            Assert.Equal(each.Describe(), joined.Describe());
            foreach (Replica coordinator in coordinators)
            {
                foreach (KeyDelta delta in shipped)
                {
                    await coordinator.ApplyAsync(delta);
                }

                Assert.Equal(each.Describe(), coordinator.Describe());
            }

            foreach (Replica replica in coordinators.Append(each).Append(joined))
            {
                await replica.Engine.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Join_AnAddThenAWholeKeyRemoveThatSawIt_LeavesNothing()
    {
        Replica a = _replicas[0], b = _replicas[1];
        KeyDelta add = await a.CoordinateAsync("f", (s, c, actor) => ElementDelta.Assign(s, c, actor, Now, [1]));
        KeyDelta remove = await a.RemoveObservedAsync(a.Header()!);

        await b.ApplyAsync(KeyDelta.Join(remove, add));

        Assert.Null(b.Read("f"));
        Assert.Equal(a.Describe(), b.Describe());
    }

    [Fact]
    public async Task Apply_ConcurrentIncrementsOnEveryReplica_AllCount()
    {
        var shipped = new List<KeyDelta>();
        foreach (Replica replica in _replicas)
        {
            for (int i = 0; i < 5; i++)
            {
                shipped.Add(await replica.CoordinateAsync("n", (state, context, actor) => ElementDelta.Increment(state, context, actor, Now, 1)));
            }
        }

        foreach (Replica replica in _replicas)
        {
            foreach (KeyDelta delta in shipped)
            {
                await replica.ApplyAsync(delta);
            }
        }

        Assert.All(_replicas, replica => Assert.Equal(15, (long)replica.Read("n")!.CountSum()));
    }

    [Fact]
    public async Task Apply_WholeKeyRemoveConcurrentWithAnAdd_RemovesOnlyWhatItObserved()
    {
        Replica a = _replicas[0], b = _replicas[1];
        KeyDelta f1 = await a.CoordinateAsync("f1", (s, c, actor) => ElementDelta.Assign(s, c, actor, Now, [1]));
        await b.ApplyAsync(f1);
        KeyDelta f2 = await b.CoordinateAsync("f2", (s, c, actor) => ElementDelta.Assign(s, c, actor, Now, [2]));

        // a removes the key as it sees it (f1 only) while b's add of f2 is still on its way.
        KeyDelta removeAll = new(KeyHeader.Create(DataType.Hash, a.Header()!.Created).WithContext(a.Header()!.Context), [], removesObserved: true);
        await a.ApplyAsync(removeAll);
        await a.ApplyAsync(f2);
        await b.ApplyAsync(removeAll);

        Assert.Equal(a.Describe(), b.Describe());
        Assert.Null(a.Read("f1"));
        Assert.NotNull(a.Read("f2"));
        Assert.Equal(1, a.StoredCount());
    }

    [Fact]
    public async Task Apply_ConcurrentCreationsOfTwoTypes_TheLaterCreationWinsOnEveryReplica()
    {
        Replica a = _replicas[0], b = _replicas[1];
        KeyDelta hash = await a.CoordinateAsync("f", (s, c, actor) => ElementDelta.Assign(s, c, actor, Now, [1]), DataType.Hash, createdAt: Now);
        KeyDelta set = await b.CoordinateAsync("m", (s, c, actor) => ElementDelta.Assign(s, c, actor, Now, null), DataType.Set, createdAt: Now + 5);

        await a.ApplyAsync(set);
        await b.ApplyAsync(hash);

        Assert.Equal(a.Describe(), b.Describe());
        Assert.Equal(DataType.Set, a.Header()!.Type);
        Assert.Null(a.Read("f"));
        Assert.NotNull(a.Read("m"));
        Assert.Equal(1, a.StoredCount());
    }

    [Fact]
    public async Task Apply_OverAString_ReplacesItOnlyWhenCreatedLater()
    {
        Replica a = _replicas[0];
        byte[] stringWrite = VersionedObject.Empty.Update(VersionVector.Empty, new NodeId("z"), [9], Now + 10, 0).Encode();
        await a.ExecuteAsync(tx => tx.Write(Key, new StoredRecord(stringWrite, 0)));

        Replica b = _replicas[1];
        KeyDelta older = await b.CoordinateAsync("f", (s, c, actor) => ElementDelta.Assign(s, c, actor, Now, [1]), createdAt: Now);
        await a.ApplyAsync(older);
        Assert.Null(a.Header());

        KeyDelta later = await _replicas[2].CoordinateAsync("g", (s, c, actor) => ElementDelta.Assign(s, c, actor, Now + 20, [1]), createdAt: Now + 20);
        await a.ApplyAsync(later);
        Assert.Equal(DataType.Hash, a.Header()!.Type);
        Assert.NotNull(a.Read("g"));
    }

    [Fact]
    public async Task Builder_OverAStringDeletedInTheSameMillisecond_CreatesTheKeyAfterTheTombstoneOnEveryReplica()
    {
        // DEL of a string, then SADD, both at Now: each replica holds the tombstone written at Now, and keeps a string
        // over a typed key created no later than it, whatever the dots say.
        byte[] tombstone = VersionedObject.Empty.Update(VersionVector.Empty, new NodeId("z"), null, Now, 0).Encode();
        foreach (Replica replica in _replicas)
        {
            await replica.ExecuteAsync(tx => tx.Write(Key, new StoredRecord(tombstone, 0)));
        }

        KeyDelta? delta = null;
        await _replicas[0].ExecuteAsync(tx =>
        {
            KeyDeltaBuilder builder = KeyDeltaBuilder.Open(tx, Key, DataType.Set, new NodeId("a"))!;
            builder.Assign(Encoding.UTF8.GetBytes("m"), null);
            delta = builder.Build();
            TypedKeyJoin.Apply(tx, Key, delta!);
        });

        Assert.True(delta!.Header.Created.TimestampUnixMs > Now);
        foreach (Replica replica in _replicas.Skip(1))
        {
            await replica.ApplyAsync(delta);
        }

        foreach (Replica replica in _replicas)
        {
            Assert.Equal(DataType.Set, replica.Header()!.Type);
            Assert.NotNull(replica.Read("m"));
        }
    }

    [Fact]
    public async Task WholeKey_ExchangedBothWays_JoinsTheReplicasAndKeepsWhatBothHold()
    {
        // Anti-entropy's transfer: a and b diverged (each missed some of the other's adds and removes); each joins the
        // other's whole key. What both hold stays, each one's adds arrive, each one's observed removes apply.
        Replica a = _replicas[0], b = _replicas[1];
        KeyDelta shared = await a.CoordinateAsync("shared", (s, c, actor) => ElementDelta.Assign(s, c, actor, Now, [1]));
        KeyDelta gone = await a.CoordinateAsync("gone", (s, c, actor) => ElementDelta.Assign(s, c, actor, Now, [2]));
        await b.ApplyAsync(shared);
        await b.ApplyAsync(gone);
        await a.CoordinateAsync("only-a", (s, c, actor) => ElementDelta.Assign(s, c, actor, Now, [3]));
        await b.CoordinateAsync("gone", (s, _, _) => ElementDelta.Remove(s));
        await b.CoordinateAsync("only-b", (s, c, actor) => ElementDelta.Assign(s, c, actor, Now, [4]));
        await b.CoordinateAsync("shared", (s, c, actor) => ElementDelta.Increment(s, c, actor, Now, 5));

        KeyDelta fromA = a.WholeKey(), fromB = b.WholeKey();
        await a.ApplyAsync(fromB);
        await b.ApplyAsync(fromA);

        Assert.Equal(a.Describe(), b.Describe());
        Assert.NotNull(a.Read("shared"));
        Assert.NotNull(a.Read("only-a"));
        Assert.NotNull(a.Read("only-b"));
        Assert.Null(a.Read("gone"));
        Assert.Equal(3, a.StoredCount());
        Assert.Equal(a.Describe(), (await JoinedTwiceAsync(a, fromB)).Describe());
    }

    /// <summary>A whole key joined again changes nothing.</summary>
    private static async Task<Replica> JoinedTwiceAsync(Replica replica, KeyDelta wholeKey)
    {
        await replica.ApplyAsync(wholeKey);
        return replica;
    }

    [Fact]
    public async Task Builder_ExpiryAndWholeKeyRemove_ReachEveryReplicaAndSpareAConcurrentAdd()
    {
        Replica a = _replicas[0], b = _replicas[1];
        KeyDelta f1 = await a.CoordinateAsync("f1", (s, c, actor) => ElementDelta.Assign(s, c, actor, Now, [1]));
        await b.ApplyAsync(f1);

        KeyDelta expire = await a.BuildAsync(builder => builder.SetExpiry(Now + 60_000));
        await b.ApplyAsync(expire);
        Assert.Equal(Now + 60_000, b.Header()!.ExpiresAtUnixMs);
        Assert.True(b.Engine.TryRead(Key, Now, out StoredRecord stored) && stored.ExpiresAtUnixMs == Now + 60_000);

        // b removes the key as it sees it while a's add of f2 is on its way.
        KeyDelta f2 = await a.CoordinateAsync("f2", (s, c, actor) => ElementDelta.Assign(s, c, actor, Now, [2]));
        KeyDelta removeAll = await b.BuildAsync(builder => builder.RemoveAll());
        await b.ApplyAsync(f2);
        await a.ApplyAsync(removeAll);

        Assert.Equal(a.Describe(), b.Describe());
        Assert.Null(a.Read("f1"));
        Assert.NotNull(a.Read("f2"));
    }

    [Fact]
    public async Task Apply_ToAKeyThatExpiredAndWasNotSwept_LendsItNoElement()
    {
        Replica a = _replicas[0], b = _replicas[1];
        await a.CoordinateAsync("old", (s, c, actor) => ElementDelta.Assign(s, c, actor, Now, [1]));
        await a.BuildAsync(builder => builder.SetExpiry(Now + 10));

        // Later, past the expiry, b creates the key anew and a receives that.
        KeyDelta fresh = await b.CoordinateAsync("new", (s, c, actor) => ElementDelta.Assign(s, c, actor, Now + 100, [2]), createdAt: Now + 100);
        await a.ExecuteAsync(tx => TypedKeyJoin.Apply(tx, Key, fresh), Now + 100);

        Assert.False(a.Engine.TryReadElement(Key, Encoding.UTF8.GetBytes("old"), out _));
        Assert.NotNull(a.Read("new"));
        Assert.Equal(1, a.StoredCount());
    }

    [Fact]
    public async Task Builder_OneNameChangedTwice_KeepsWhatTheSecondChangeDidNotSee()
    {
        Replica a = _replicas[0], b = _replicas[1];
        KeyDelta? delta = null;
        await a.ExecuteAsync(tx =>
        {
            // INCR over a string it carries over: the register and the increment both stay; HSET f x f y keeps y.
            KeyDeltaBuilder builder = KeyDeltaBuilder.Open(tx, Key, DataType.Hash, new NodeId("a"))!;
            builder.Assign(Encoding.UTF8.GetBytes("n"), Encoding.UTF8.GetBytes("100"));
            builder.Increment(Encoding.UTF8.GetBytes("n"), 5);
            builder.Assign(Encoding.UTF8.GetBytes("f"), Encoding.UTF8.GetBytes("x"));
            builder.Assign(Encoding.UTF8.GetBytes("f"), Encoding.UTF8.GetBytes("y"));
            delta = builder.Build();
            TypedKeyJoin.Apply(tx, Key, delta!);
        });
        await b.ApplyAsync(delta!);

        Assert.Equal("105", Encoding.UTF8.GetString(ElementValue.Render(b.Read("n")!)));
        Assert.Equal("y", Encoding.UTF8.GetString(ElementValue.Render(b.Read("f")!)));
        Assert.Equal(a.Describe(), b.Describe());
    }

    /// <summary>One replica: a memory engine holding the key, coordinating commands as a cluster node will.</summary>
    private sealed class Replica(NodeId actor)
    {
        public MemoryStorageEngine Engine { get; } = new(new KeyPartitioner(4));

        /// <summary>Builds a delta from local state, applies it here through the join (as the coordinator will), returns it.</summary>
        public async Task<KeyDelta> CoordinateAsync(string field, Func<ElementState, DotContext, NodeId, ElementDelta> command, DataType type = DataType.Hash, long createdAt = Now)
        {
            KeyHeader? current = Header();
            DotContext context = current?.Context ?? DotContext.Empty;
            KeyHeader header;
            if (current is null || current.Type != type)
            {
                Dot created = context.NextDot(actor);
                context = context.Add(created);
                header = KeyHeader.Create(type, new Stamp(createdAt, created)).WithContext(DotContext.Of([created]));
            }
            else
            {
                header = KeyHeader.Create(type, current.Created);
            }

            ElementDelta element = command(Read(field) ?? ElementState.Empty, context, actor);
            var delta = new KeyDelta(header, [new(Encoding.UTF8.GetBytes(field), element)]);
            await ApplyAsync(delta);
            return delta;
        }

        /// <summary>A whole-key remove of what this replica holds (<c>DEL</c>), applied here, returned.</summary>
        public async Task<KeyDelta> RemoveObservedAsync(KeyHeader current)
        {
            var delta = new KeyDelta(KeyHeader.Create(current.Type, current.Created).WithContext(current.Context), [], removesObserved: true);
            await ApplyAsync(delta);
            return delta;
        }

        public Task ApplyAsync(KeyDelta delta) => ExecuteAsync(tx => TypedKeyJoin.Apply(tx, Key, KeyDelta.Decode(delta.Encode())));

        public async Task ExecuteAsync(Action<IStorageTransaction> body, long now = Now) => await Engine.ExecuteAsync(new Operation(body), now);

        /// <summary>A key-level change (<see cref="KeyDeltaBuilder"/>) of the existing key, built and applied here, returned.</summary>
        public async Task<KeyDelta> BuildAsync(Action<KeyDeltaBuilder> change)
        {
            KeyDelta? delta = null;
            await ExecuteAsync(tx =>
            {
                KeyDeltaBuilder builder = KeyDeltaBuilder.Open(tx, Key, DataType.Hash, actor)!;
                change(builder);
                delta = builder.Build()!;
                TypedKeyJoin.Apply(tx, Key, delta);
            });
            return delta!;
        }

        /// <summary>This replica's whole key, as anti-entropy sends it (<see cref="KeyDelta.WholeKey"/>).</summary>
        public KeyDelta WholeKey() =>
            KeyDelta.WholeKey(Header()!, Engine.ScanElements(Key, null, 1000).Elements.Select(e => new KeyValuePair<byte[], ElementState>(e.Name, ElementState.Decode(e.Value))));

        public KeyHeader? Header() =>
            Engine.TryRead(Key, Now, out StoredRecord record) && record.IsTypedHeader ? TypedKeyRecord.Decode(record.Value).Header : null;

        public long StoredCount() => Engine.TryRead(Key, Now, out StoredRecord record) ? TypedKeyRecord.CountOf(record.Value) : 0;

        /// <summary>The stored record's bytes, as anti-entropy's Merkle tree hashes them.</summary>
        public byte[]? RecordBytes() => Engine.TryRead(Key, Now, out StoredRecord record) ? record.Value : null;

        public ulong? StoredDigest() => Engine.TryRead(Key, Now, out StoredRecord record) ? TypedKeyRecord.Decode(record.Value).ElementDigest : null;

        public ulong RecomputedDigest() =>
            Engine.ScanElements(Key, null, 1000).Elements.Aggregate(0UL, (digest, e) => digest ^ TypedKeyRecord.DigestOf(e.Name, e.Value));

        public ElementState? Read(string field)
        {
            ElementState? state = Engine.TryReadElement(Key, Encoding.UTF8.GetBytes(field), out byte[]? encoded) ? ElementState.Decode(encoded) : null;
            return state is { IsPresent: true } ? state : null;
        }

        public long PresentElements() => Engine.ScanElements(Key, null, 1000).Elements.Count(e => ElementState.Decode(e.Value).IsPresent);

        public string Describe()
        {
            string header = Engine.TryRead(Key, Now, out StoredRecord record) ? TypedKeyRecord.Decode(record.Value).ToString() : "none";
            IEnumerable<string> elements = Engine.ScanElements(Key, null, 1000).Elements
                .Select(e => $"{Encoding.UTF8.GetString(e.Name)}={ElementState.Decode(e.Value)}");
            return header + " | " + string.Join(", ", elements);
        }
    }

    private sealed class Operation(Action<IStorageTransaction> body) : IStorageOperation
    {
        public int TouchedKeyCount => 1;

        public byte[] GetTouchedKey(int index) => Key;

        public void Execute(IStorageTransaction transaction) => body(transaction);
    }
}
