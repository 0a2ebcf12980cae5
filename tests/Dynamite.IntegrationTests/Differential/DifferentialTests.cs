using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.Differential;

/// <summary>
/// Netflix Dynomite's dual_run, done our way: every case of cases.txt runs against a real redis-server and
/// against Dynamite (a standalone node of each engine, and node 1 of a 3-node cluster, where every hash, set, counter
/// and key command runs through quorums and deltas), and every reply must be equal, type included. Cases that cannot be equal
/// are marked "!differs" with a reason and listed in the README.
/// </summary>
public sealed class DifferentialTests(DifferentialFixture fixture) : IClassFixture<DifferentialFixture>
{
    private static readonly string CasesPath = Path.Combine(AppContext.BaseDirectory, "Differential", "cases.txt");

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (string engine in new[] { "memory", "rocksdb", "sqlite", "cluster" })
        {
            foreach (DifferentialCase differentialCase in DifferentialCase.Load(CasesPath))
            {
                data.Add(engine, differentialCase.Name);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Case_SameCommands_SameRepliesAsRedisServer(string engine, string caseName)
    {
        DifferentialCase differentialCase = DifferentialCase.Load(CasesPath).Single(c => c.Name == caseName);
        using RawRespClient redis = fixture.Redis.Connect();
        using RawRespClient dynamite = fixture.Connect(engine);
        Assert.Equal("+OK", redis.Call("FLUSHALL").ToString());
        Assert.Equal("+OK", dynamite.Call("FLUSHALL").ToString());
        var differences = new List<string>();
        foreach (DifferentialStep step in differentialCase.Steps)
        {
            string? difference = Run(step, redis, dynamite);
            if (difference is not null)
            {
                differences.Add(difference);
            }
        }

        Assert.True(differences.Count == 0, $"{differences.Count} difference(s) in '{caseName}' ({engine}):\n" + string.Join("\n", differences));
    }

    [Fact]
    public void ClusterTarget_IsANodeOfThreeReplicatingEveryKey()
    {
        using RawRespClient node = fixture.Connect("cluster");
        string info = node.Call("INFO", "cluster").Text!;
        Assert.Contains("cluster_members:3", info, StringComparison.Ordinal);
        Assert.Contains("replication_n:3", info, StringComparison.Ordinal);
    }

    [Fact]
    public void ClusterTarget_RenamesAndCopiesEveryType_SeenThroughTheOtherNodes()
    {
        using RawRespClient node = fixture.Connect("cluster");
        Assert.Equal("+OK", node.Call("FLUSHALL").ToString());
        Assert.Equal(":3", node.Call("SADD", "set", "a", "b", "c").ToString());
        Assert.Equal(":2", node.Call("HSET", "hash", "f", "1", "g", "2").ToString());
        Assert.Equal("+OK", node.Call("SET", "string", "v", "PX", "600000").ToString());
        Assert.Equal("+OK", node.Call("RENAME", "set", "set2").ToString());
        Assert.Equal(":1", node.Call("COPY", "hash", "hash2").ToString());
        Assert.Equal(":1", node.Call("RENAMENX", "string", "string2").ToString());
        for (int other = 1; other < 3; other++)
        {
            using RawRespClient reader = fixture.Cluster.Connect(other);
            Assert.Equal(":0", reader.Call("EXISTS", "set", "string").ToString());
            Assert.Equal(":3", reader.Call("SCARD", "set2").ToString());
            Assert.Equal("$\"2\"", reader.Call("HGET", "hash2", "g").ToString());
            Assert.Equal(":2", reader.Call("HLEN", "hash").ToString());
            Assert.Equal("$\"v\"", reader.Call("GET", "string2").ToString());
            long ttl = long.Parse(reader.Call("PTTL", "string2").Text!, System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(ttl, 1, 600000);
        }
    }

    [Fact]
    public void Cases_CoverAtLeast200ComparedCommands()
    {
        IReadOnlyList<DifferentialCase> cases = DifferentialCase.Load(CasesPath);
        int compared = cases.Sum(c => c.Steps.Count(s => s.Kind is not (StepKind.Differs or StepKind.Sleep)));
        Assert.True(compared >= 200, $"only {compared} compared commands");
    }

    private static string? Run(DifferentialStep step, RawRespClient redis, RawRespClient dynamite)
    {
        switch (step.Kind)
        {
            case StepKind.Sleep:
                Thread.Sleep(int.Parse(step.Arguments[0], System.Globalization.CultureInfo.InvariantCulture));
                return null;
            case StepKind.ScanAll:
            {
                string expected = string.Join(", ", ScanAll(redis, step.Arguments));
                string actual = string.Join(", ", ScanAll(dynamite, step.Arguments));
                return expected == actual ? null : Describe(step, expected, actual);
            }

            default:
            {
                RespValue expected = redis.Call(step.Arguments);
                RespValue actual = dynamite.Call(step.Arguments);
                if (step.Kind == StepKind.Differs)
                {
                    return null;
                }

                string expectedText = Render(step.Kind, expected);
                string actualText = Render(step.Kind, actual);
                return expectedText == actualText ? null : Describe(step, expectedText, actualText);
            }
        }
    }

    private static string Render(StepKind kind, RespValue value) => kind switch
    {
        StepKind.CompareType => value.Type.ToString(),
        StepKind.CompareSorted when value.Items is not null => value.Type + "[" + string.Join(", ", value.Items.Select(i => i.ToString()).Order(StringComparer.Ordinal)) + "]",
        _ => value.ToString(),
    };

    private static List<string> ScanAll(RawRespClient client, string[] options)
    {
        var keys = new List<string>();
        string cursor = "0";
        for (int round = 0; round < 100_000; round++)
        {
            RespValue reply = client.Call(["SCAN", cursor, .. options]);
            if (reply.IsError)
            {
                return [reply.ToString()];
            }

            cursor = reply.Items![0].Text!;
            keys.AddRange(reply.Items[1].Items!.Select(k => k.Text!));
            if (cursor == "0")
            {
                break;
            }
        }

        return [.. keys.Distinct().Order(StringComparer.Ordinal)];
    }

    private static string Describe(DifferentialStep step, string expected, string actual) =>
        $"  {step.Source}\n    redis-server: {expected}\n    dynamite:     {actual}";
}
