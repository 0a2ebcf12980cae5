using System.CommandLine;
using System.Text.RegularExpressions;
using Dynamite.Cli;
using Dynamite.Server.Configuration;
using Xunit;

namespace Dynamite.Server.Tests.Configuration;

/// <summary>Defaults &lt; YAML file &lt; environment &lt; flags, and what each setting's single declaration yields.</summary>
public sealed partial class ConfigurationLayeringTests
{
    [Theory]
    [InlineData(false, false, false, 20000)]
    [InlineData(true, false, false, 100)]
    [InlineData(true, true, false, 200)]
    [InlineData(true, true, true, 300)]
    [InlineData(false, true, false, 200)]
    [InlineData(false, false, true, 300)]
    [InlineData(true, false, true, 300)]
    public void Resolve_FileEnvironmentFlag_LaterLayerWins(bool inFile, bool inEnvironment, bool asFlag, int expected)
    {
        using var yaml = new TempYaml(inFile ? "handoff-rate: 100\n" : "node-id: n9\n");
        var environment = new Dictionary<string, string>();
        if (inEnvironment)
        {
            environment["DYNAMITE_HANDOFF_RATE"] = "200";
        }

        string[] arguments = asFlag ? ["--config", yaml.Path, "--handoff-rate", "300"] : ["--config", yaml.Path];

        NodeConfiguration configuration = Resolve(arguments, environment);

        Assert.Equal(expected, configuration.HandoffKeysPerSecond);
        Assert.Equal(inFile ? "n1" : "n9", configuration.NodeId);
    }

    [Fact]
    public void Resolve_EnvironmentOnly_EverySpellingDerivedFromTheKey()
    {
        NodeConfiguration configuration = Resolve([], new Dictionary<string, string>
        {
            ["DYNAMITE_NODE_ID"] = "env-node",
            ["DYNAMITE_SEEDS"] = "127.0.0.1:9111,127.0.0.1:9121",
            ["DYNAMITE_DC"] = "eu",
            ["DYNAMITE_N"] = "5",
            ["DYNAMITE_R"] = "3",
            ["DYNAMITE_HINTED_HANDOFF"] = "off",
            ["DYNAMITE_FSYNC"] = "always",
            ["DYNAMITE_READ_FANOUT"] = "all",
            ["DYNAMITE_REQUIREPASS"] = "",
            ["DYNAMITE_SIM_SEED"] = "7",
        });

        Assert.Equal("env-node", configuration.NodeId);
        Assert.Equal(["127.0.0.1:9111", "127.0.0.1:9121"], configuration.Seeds);
        Assert.Equal("eu", configuration.Datacenter);
        Assert.Equal(5, configuration.ReplicationFactor);
        Assert.Equal(3, configuration.ReadQuorum);
        Assert.False(configuration.HintedHandoff);
        Assert.Equal(Dynamite.Storage.FsyncPolicy.Always, configuration.Fsync);
        Assert.Equal(Dynamite.Core.Coordination.ReadFanout.All, configuration.ReadFanout);
        Assert.Null(configuration.RequirePass);
    }

    [Theory]
    [InlineData("file", "--maxclients must be")]
    [InlineData("environment", "DYNAMITE_MAXCLIENTS must be")]
    [InlineData("flag", "--maxclients must be")]
    public void Resolve_BadNumber_ErrorNamesTheSettingAsWritten(string where, string expectedStart)
    {
        using var yaml = new TempYaml(where == "file" ? "maxclients: lots\n" : "");
        var environment = where == "environment" ? new Dictionary<string, string> { ["DYNAMITE_MAXCLIENTS"] = "lots" } : [];
        string[] arguments = where == "flag" ? ["--config", yaml.Path, "--maxclients", "lots"] : ["--config", yaml.Path];

        var error = Assert.Throws<ConfigurationException>(() => Resolve(arguments, environment));

        string expected = where == "file" ? "maxclients must be a whole number, not 'lots'." : $"{expectedStart} a whole number, not 'lots'.";
        Assert.Equal(expected, error.Message);
    }

    [Fact]
    public void Resolve_BadListenFromEnvironment_NamesTheVariable()
    {
        var error = Assert.Throws<ConfigurationException>(() => Resolve([], new Dictionary<string, string> { ["DYNAMITE_LISTEN"] = "8102" }));

        Assert.Equal("DYNAMITE_LISTEN must be HOST:PORT, not '8102'.", error.Message);
    }

    [Theory]
    [InlineData("fsync: sometimes\n", "fsync must be always, batch or never, not 'sometimes'.")]
    [InlineData("read-fanout: most\n", "read-fanout must be all or quorum, not 'most'.")]
    [InlineData("engine: leveldb\n", "engine must be rocksdb, sqlite, memory or lmdb, not 'leveldb'.")]
    [InlineData("n: 99999999999\n", "n must be at most 2147483647, not 99999999999.")]
    [InlineData("handoff-rate: 0\n", "handoff-rate must be a positive number of keys per second, not 0.")]
    [InlineData("dc: \"eu west\"\n", "dc must be a non-empty name without whitespace, not 'eu west'.")]
    [InlineData("seeds: [127.0.0.1:1, db:2]\n", "seeds: 'db' is not an IP address (use an address such as 127.0.0.1, or localhost).")]
    public void LoadFile_BadValue_ErrorNamesTheSetting(string text, string message)
    {
        using var yaml = new TempYaml(text);

        Assert.Equal(message, Assert.Throws<ConfigurationException>(() => NodeConfigurationTests.LoadFile(yaml.Path)).Message);
    }

    [Fact]
    public void LoadFile_UnknownKey_ErrorWithLine()
    {
        using var yaml = new TempYaml("node-id: n1\nhandof-rate: 10\n");

        var error = Assert.Throws<ConfigurationException>(() => NodeConfigurationTests.LoadFile(yaml.Path));

        Assert.Equal($"Configuration file '{yaml.Path}': unknown key 'handof-rate' (the keys are the `dynamite start --help` flags without the dashes) (line 2).", error.Message);
    }

    [Theory]
    [InlineData("node-id: [a, b]\n", "node-id takes a single value (line 1)")]
    [InlineData("seeds:\n  host: 1\n", "seeds takes a single value or a list (line 2)")]
    [InlineData("- node-id\n", "expected keys and values such as 'node-id: n1' (line 1)")]
    [InlineData("node-id: [\n", "(line")]
    [InlineData("node-id: a\nnode-id: b\n", "(line 2)")]
    public void LoadFile_WrongShape_ClearError(string text, string expected)
    {
        using var yaml = new TempYaml(text);

        var error = Assert.Throws<ConfigurationException>(() => NodeConfigurationTests.LoadFile(yaml.Path));

        Assert.StartsWith($"Configuration file '{yaml.Path}': ", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadFile_EmptyValuesAndEmptyFile_KeepDefaults()
    {
        using var yaml = new TempYaml("requirepass:\ncluster-secret: ~\n");
        using var empty = new TempYaml("# nothing set\n");

        Assert.Equal(new NodeConfiguration() with { ConfigFile = yaml.Path }, NodeConfigurationTests.LoadFile(yaml.Path));
        Assert.Equal(new NodeConfiguration() with { ConfigFile = empty.Path }, NodeConfigurationTests.LoadFile(empty.Path));
    }

    [Fact]
    public void LoadFile_YesNoAndMixedCase_Accepted()
    {
        using var yaml = new TempYaml("aae: no\nread-repair: Yes\nengine: Memory\nfsync: NEVER\n");

        NodeConfiguration configuration = NodeConfigurationTests.LoadFile(yaml.Path);

        Assert.False(configuration.AntiEntropy);
        Assert.True(configuration.ReadRepair);
        Assert.Equal("memory", configuration.Engine);
        Assert.Equal(Dynamite.Storage.FsyncPolicy.Never, configuration.Fsync);
    }

    [Fact]
    public void Resolve_LargeMaxValueSize_RaisesBulkAndBufferLimits()
    {
        NodeConfiguration configuration = Resolve(["--max-value-size", "100000000"], []);

        Assert.Equal(100_000_000, configuration.ProtoMaxBulkLen);
        Assert.Equal(200_000_000, configuration.ClientQueryBufferLimit);
    }

    [Fact]
    public void Settings_KeysFlagsAndVariables_Distinct()
    {
        Assert.Equal(45, NodeSetting.All.Count);
        Assert.Equal(NodeSetting.All.Count, NodeSetting.All.Select(setting => setting.Key).Distinct().Count());
        Assert.Equal(NodeSetting.All.Count, NodeSetting.All.Select(setting => setting.EnvironmentVariable).Distinct().Count());
        Assert.Equal("DYNAMITE_CLIENT_QUERY_BUFFER_LIMIT", NodeSetting.Find("client-query-buffer-limit")!.EnvironmentVariable);
    }

    [Fact]
    public void Settings_EveryDefaultFormatted_ParsesBackToItself()
    {
        var defaults = new NodeConfiguration();
        Dictionary<string, string> flags = NodeSetting.All.Where(setting => setting.ValueIn(defaults) is not null && !setting.IsList)
            .ToDictionary(setting => setting.Key, setting => SettingParser.Format(setting.ValueIn(defaults)));

        Assert.Equal(defaults, NodeConfigurationLoader.Load(null, flags, _ => null));
        // All but data-dir, requirepass, cluster-secret, the three TLS files (no default value), aclfile and seeds (a list).
        Assert.Equal(37, flags.Count);
    }

    [Fact]
    public void Help_ListsEverySettingWithItsDescription()
    {
        var output = new StringWriter();
        new RootCommand { new StartCommand().Command }.Parse(["start", "--help"]).Invoke(new InvocationConfiguration { Output = output });
        string help = Whitespace().Replace(output.ToString(), " ");

        Assert.Contains("--config <config>", help, StringComparison.Ordinal);
        foreach (NodeSetting setting in NodeSetting.All)
        {
            Assert.Contains(setting.Flag + " <", help, StringComparison.Ordinal);
            Assert.Contains(Whitespace().Replace(setting.HelpText, " "), help, StringComparison.Ordinal);
        }

        Assert.Contains("--engine <lmdb|memory|rocksdb|sqlite>", help, StringComparison.Ordinal);
        Assert.Contains("--hinted-handoff <false|no|off|on|true|yes>", help, StringComparison.Ordinal);
        Assert.Contains("(default: ./data/<node-id>).", help, StringComparison.Ordinal);
        Assert.Contains("DYNAMITE_NODE_ID", help, StringComparison.Ordinal);
    }

    private static NodeConfiguration Resolve(string[] arguments, Dictionary<string, string> environment)
    {
        var start = new StartCommand();
        return start.Resolve(start.Command.Parse(arguments), environment.GetValueOrDefault);
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
