using System.Globalization;
using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Protocols.Resp.Commands.SortedSetOperations;
using Dynamite.Protocols.Tests.Infrastructure;
using Xunit;

namespace Dynamite.Protocols.Tests.SortedSets;

/// <summary>
/// The score index behind a single node's range reads (docs/DATA-TYPES.md, "The score index"): after any sequence of
/// writes, every range command answers as a model of the set does, and the stored index entries are exactly those the
/// members' elements imply; entries follow a key through EXEC, COPY, RENAME, expiry and re-creation.
/// </summary>
public sealed class ScoreIndexTests : StandaloneNodeTests
{
    private static readonly string[] Members = [.. Enumerable.Range(0, 24).Select(i => $"m{i:D2}"), "", "m", "m~"];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task RandomWrites_RangeReadsAnswerAsAModel_AndEntriesMatchTheElements(int seed)
    {
        var random = new Random(seed);
        var model = new Dictionary<string, double>(StringComparer.Ordinal);
        for (int step = 0; step < 150; step++)
        {
            await ApplyRandomWrite(random, model);
            await CheckReads(random, model);
            if (step % 25 == 0)
            {
                await CheckEntries("z", model);
            }
        }

        await CheckEntries("z", model);
    }

    [Fact]
    public async Task Exec_RangeReadsSeeTheWritesQueuedBeforeThem()
    {
        await Expect(":3\r\n", "ZADD", "z", "1", "a", "2", "b", "3", "c");
        await Expect("+OK\r\n", "MULTI");
        await Expect("+QUEUED\r\n", "ZINCRBY", "z", "10", "a");
        await Expect("+QUEUED\r\n", "ZREVRANGE", "z", "0", "0", "WITHSCORES");
        await Expect("+QUEUED\r\n", "ZPOPMAX", "z");
        await Expect("+QUEUED\r\n", "ZRANGE", "z", "0", "-1");
        await Expect("+QUEUED\r\n", "ZRANK", "z", "c");
        await Expect("*5\r\n$2\r\n11\r\n*2\r\n$1\r\na\r\n$2\r\n11\r\n*2\r\n$1\r\na\r\n$2\r\n11\r\n*2\r\n$1\r\nb\r\n$1\r\nc\r\n:1\r\n", "EXEC");
        await CheckEntries("z", new Dictionary<string, double> { ["b"] = 2, ["c"] = 3 });
    }

    [Fact]
    public async Task CopyAndRename_CarryTheEntries()
    {
        await Expect(":3\r\n", "ZADD", "z", "3", "a", "1", "b", "2", "c");
        await Expect(":1\r\n", "COPY", "z", "copy");
        await Expect("+OK\r\n", "RENAME", "z", "renamed");

        var expected = new Dictionary<string, double> { ["a"] = 3, ["b"] = 1, ["c"] = 2 };
        await CheckEntries("copy", expected);
        await CheckEntries("renamed", expected);
        await CheckEntries("z", []);
        Assert.Equal(["a", "c", "b"], Bulks(await Call("ZREVRANGE", "copy", "0", "-1")));
        Assert.Equal(["b", "c"], Bulks(await Call("ZRANGEBYSCORE", "renamed", "-inf", "(3")));
    }

    [Fact]
    public async Task AnExpiredSetCreatedAgain_HasOnlyItsNewMembersInRange()
    {
        await Expect(":2\r\n", "ZADD", "z", "1", "old1", "2", "old2");
        await Expect(":1\r\n", "PEXPIRE", "z", "100");
        Clock.Advance(TimeSpan.FromMilliseconds(200));

        await Expect(":1\r\n", "ZADD", "z", "5", "new");

        Assert.Equal(["new", "5"], Bulks(await Call("ZRANGE", "z", "0", "-1", "WITHSCORES")));
        Assert.Equal(["new"], Bulks(await Call("ZREVRANGEBYSCORE", "z", "+inf", "-inf")));
        await Expect(":0\r\n", "ZRANK", "z", "new");
        await CheckEntries("z", new Dictionary<string, double> { ["new"] = 5 });
    }

    [Fact]
    public async Task DeletedAndRetypedKeys_LeaveNoEntries()
    {
        await Expect(":2\r\n", "ZADD", "z", "1", "a", "2", "b");
        await Expect(":1\r\n", "DEL", "z");
        await CheckEntries("z", []);
        await Expect(":1\r\n", "ZADD", "z", "1", "a");
        await Expect("+OK\r\n", "SET", "z", "now a string");
        await CheckEntries("z", []);
    }

    [Fact]
    public async Task LongWalks_OverManyPages_AnswerAsAModel()
    {
        // 3,000 members: ranks deep inside, ranges and pops that take several (growing) pages from either end.
        var model = new List<(string Member, double Score)>();
        for (int chunk = 0; chunk < 3; chunk++)
        {
            var arguments = new List<string> { "ZADD", "z" };
            for (int i = chunk * 1000; i < (chunk + 1) * 1000; i++)
            {
                arguments.Add(Text(i % 700));
                arguments.Add($"m{i:D4}");
                model.Add(($"m{i:D4}", i % 700));
            }

            await Expect(":1000\r\n", [.. arguments]);
        }

        List<(string Member, double Score)> sorted = Sorted(model.ToDictionary(m => m.Member, m => m.Score));
        foreach (int rank in new[] { 0, 255, 256, 700, 1499, 1500, 2300, 2999 })
        {
            Assert.Equal($":{rank}\r\n", await Call("ZRANK", "z", sorted[rank].Member));
            Assert.Equal($":{2999 - rank}\r\n", await Call("ZREVRANK", "z", sorted[rank].Member));
        }

        Assert.Equal(Window(Enumerable.Reverse(sorted).ToList(), 1500, 1510).Select(m => m.Member), Bulks(await Call("ZREVRANGE", "z", "1500", "1510")));
        Assert.Equal(sorted.Where(m => m.Score >= 100).Select(m => m.Member), Bulks(await Call("ZRANGEBYSCORE", "z", "100", "+inf")));
        Assert.Equal(Enumerable.Reverse(sorted).Where(m => m.Score < 650).Select(m => m.Member), Bulks(await Call("ZREVRANGEBYSCORE", "z", "(650", "-inf")));
        Assert.Equal($":{sorted.Count(m => m.Score is > 10 and <= 690)}\r\n", await Call("ZCOUNT", "z", "(10", "690"));
        Assert.Equal(Flatten(Enumerable.Reverse(sorted).Take(600)), Bulks(await Call("ZPOPMAX", "z", "600")));
        Assert.Equal(Flatten(sorted.Take(700)), Bulks(await Call("ZPOPMIN", "z", "700")));
        await CheckEntries("z", sorted.Skip(700).Take(1700).ToDictionary(m => m.Member, m => m.Score));
    }

    [Fact]
    public void ClusterIndexWindow_HoldsEveryMemberTheQueryCanSelect_OrIsNotUsed()
    {
        byte[] key = Key("z");
        ScoreRange all = new(double.NegativeInfinity, false, double.PositiveInfinity, false);

        ElementSelection top = new SortedSetRangeRead(key, SortedSetRangeAnswer.Members, SortedSetQuery.ByRank(0, 9, reverse: true)).IndexWindow!;
        Assert.True(top is { IsIndexWindow: true, Backward: true, After: null, Limit: 26 });
        ElementSelection limited = new SortedSetRangeRead(key, SortedSetRangeAnswer.Members, SortedSetQuery.ByScore(all, reverse: false) with { Offset = 100, Count = 50 }).IndexWindow!;
        Assert.Equal(166, limited.Limit);
        Assert.Equal(ScoreIndex.FirstAtOrAbove(double.NegativeInfinity, exclusive: false), limited.After);

        // Too large for one window (it would cut the answer short), a negative rank, no LIMIT, or a count: every member.
        Assert.Null(new SortedSetRangeRead(key, SortedSetRangeAnswer.Members, SortedSetQuery.ByScore(all, reverse: false) with { Offset = 3000, Count = 2000 }).IndexWindow);
        Assert.Null(new SortedSetRangeRead(key, SortedSetRangeAnswer.Members, SortedSetQuery.ByRank(0, 4090, reverse: false)).IndexWindow);
        Assert.Null(new SortedSetRangeRead(key, SortedSetRangeAnswer.Members, SortedSetQuery.ByRank(0, -1, reverse: false)).IndexWindow);
        Assert.Null(new SortedSetRangeRead(key, SortedSetRangeAnswer.Members, SortedSetQuery.ByScore(all, reverse: true)).IndexWindow);
        Assert.Null(new SortedSetRangeRead(key, SortedSetRangeAnswer.Count, SortedSetQuery.ByScore(all, reverse: false) with { Count = 5 }).IndexWindow);
    }

    private async Task ApplyRandomWrite(Random random, Dictionary<string, double> model)
    {
        string member = Members[random.Next(Members.Length)];
        double score = random.Next(-6, 7) / 2.0;
        switch (random.Next(8))
        {
            case 0:
            case 1:
                await Call("ZADD", "z", Format(score), member);
                model[member] = score;
                break;
            case 2:
                string other = Members[random.Next(Members.Length)];
                double otherScore = random.Next(-6, 7);
                await Call("ZADD", "z", "GT", Format(score), member, Format(otherScore), other);
                foreach ((string name, double value) in new[] { (member, score), (other, otherScore) })
                {
                    if (!model.TryGetValue(name, out double current) || value > current)
                    {
                        model[name] = value;
                    }
                }

                break;
            case 3:
                await Call("ZINCRBY", "z", Format(score), member);
                model[member] = model.GetValueOrDefault(member) + score;
                break;
            case 4:
                await Call("ZREM", "z", member);
                model.Remove(member);
                break;
            case 5:
                int count = random.Next(1, 4);
                bool highest = random.Next(2) == 0;
                string[] popped = Bulks(await Call(highest ? "ZPOPMAX" : "ZPOPMIN", "z", count.ToString(CultureInfo.InvariantCulture)));
                List<(string Member, double Score)> expected = Sorted(model);
                if (highest)
                {
                    expected.Reverse();
                }

                expected = expected.Take(count).ToList();
                Assert.Equal(expected.SelectMany(m => new[] { m.Member, Format(m.Score) }), popped);
                expected.ForEach(m => model.Remove(m.Member));
                break;
            case 6:
                double low = random.Next(-6, 7) / 2.0;
                double high = low + random.Next(0, 4);
                await Call("ZREMRANGEBYSCORE", "z", "(" + Format(low), Format(high));
                foreach (string name in model.Where(m => m.Value > low && m.Value <= high).Select(m => m.Key).ToList())
                {
                    model.Remove(name);
                }

                break;
            default:
                int start = random.Next(-4, 4);
                int stop = random.Next(-4, 6);
                await Call("ZREMRANGEBYRANK", "z", start.ToString(CultureInfo.InvariantCulture), stop.ToString(CultureInfo.InvariantCulture));
                foreach ((string name, _) in Window(Sorted(model), start, stop))
                {
                    model.Remove(name);
                }

                break;
        }
    }

    private async Task CheckReads(Random random, Dictionary<string, double> model)
    {
        List<(string Member, double Score)> sorted = Sorted(model);
        Assert.Equal(Flatten(sorted), Bulks(await Call("ZRANGE", "z", "0", "-1", "WITHSCORES")));

        int start = random.Next(-6, 6);
        int stop = random.Next(-6, 8);
        var reversed = Enumerable.Reverse(sorted).ToList();
        Assert.Equal(Flatten(Window(reversed, start, stop)), Bulks(await Call("ZREVRANGE", "z", Text(start), Text(stop), "WITHSCORES")));
        Assert.Equal(Window(sorted, start, stop).Select(m => m.Member), Bulks(await Call("ZRANGE", "z", Text(start), Text(stop))));

        double low = random.Next(-8, 8) / 2.0;
        double high = low + random.Next(0, 6);
        int offset = random.Next(0, 3);
        int count = random.Next(-1, 4);
        bool lowOpen = random.Next(2) == 0;
        string min = (lowOpen ? "(" : string.Empty) + Format(low);
        var inRange = sorted.Where(m => (lowOpen ? m.Score > low : m.Score >= low) && m.Score <= high).ToList();
        Assert.Equal(
            Flatten(Limit(inRange, offset, count)),
            Bulks(await Call("ZRANGEBYSCORE", "z", min, Format(high), "WITHSCORES", "LIMIT", Text(offset), Text(count))));
        Assert.Equal(
            Limit(Enumerable.Reverse(inRange).ToList(), offset, count).Select(m => m.Member),
            Bulks(await Call("ZRANGE", "z", Format(high), min, "BYSCORE", "REV", "LIMIT", Text(offset), Text(count))));
        Assert.Equal($":{inRange.Count}\r\n", await Call("ZCOUNT", "z", min, Format(high)));

        string member = Members[random.Next(Members.Length)];
        int rank = sorted.FindIndex(m => m.Member == member);
        Assert.Equal(rank < 0 ? "$-1\r\n" : $":{rank}\r\n", await Call("ZRANK", "z", member));
        Assert.Equal(rank < 0 ? "$-1\r\n" : $":{sorted.Count - 1 - rank}\r\n", await Call("ZREVRANK", "z", member));
    }

    /// <summary>The stored index entries of <paramref name="key"/> are exactly those of <paramref name="expected"/>'s members.</summary>
    private async Task CheckEntries(string key, Dictionary<string, double> expected)
    {
        var entries = new List<byte[]>();
        var elements = new List<StoredElement>();
        await Engine.ExecuteAsync(new ReadEverything(Key(key), entries, elements), Store.NowUnixMs);

        var implied = expected.Select(m => ScoreIndex.Entry(m.Value, Key(m.Key))).Select(Convert.ToHexString).Order(StringComparer.Ordinal);
        Assert.Equal(implied, entries.Select(Convert.ToHexString));
        Assert.Equal(expected.Count, elements.Count(e => ElementState.Decode(e.Value).IsPresent));
    }

    private static List<(string Member, double Score)> Sorted(Dictionary<string, double> model) =>
        model.Select(m => (m.Key, m.Value)).Order(Comparer<(string Member, double Score)>.Create(static (x, y) =>
        {
            int byScore = x.Score.CompareTo(y.Score);
            return byScore != 0 ? byScore : string.CompareOrdinal(x.Member, y.Member);
        })).ToList();

    /// <summary>Redis's rank window: negative ranks from the end, clamped.</summary>
    private static List<(string Member, double Score)> Window(List<(string Member, double Score)> sorted, int start, int stop)
    {
        int length = sorted.Count;
        int first = Math.Max(0, start < 0 ? length + start : start);
        int last = Math.Min(length - 1, stop < 0 ? length + stop : stop);
        return first > last ? [] : sorted.GetRange(first, last - first + 1);
    }

    private static List<(string Member, double Score)> Limit(List<(string Member, double Score)> members, int offset, int count) =>
        members.Skip(offset).Take(count < 0 ? int.MaxValue : count).ToList();

    private static IEnumerable<string> Flatten(IEnumerable<(string Member, double Score)> members) =>
        members.SelectMany(m => new[] { m.Member, Format(m.Score) });

    private static string Format(double score) => score.ToString("R", CultureInfo.InvariantCulture);

    private static string Text(int number) => number.ToString(CultureInfo.InvariantCulture);

    /// <summary>Reads a key's index entries and elements in one operation, as the engine holds them.</summary>
    private sealed class ReadEverything(byte[] key, List<byte[]> entries, List<StoredElement> elements) : IStorageOperation
    {
        public int TouchedKeyCount => 1;

        public byte[] GetTouchedKey(int index) => key;

        public void Execute(IStorageTransaction transaction)
        {
            entries.AddRange(transaction.ScanIndex(key, null, 100_000).Elements.Select(e => e.Name));
            elements.AddRange(transaction.ScanElements(key, null, 100_000).Elements);
        }
    }
}
