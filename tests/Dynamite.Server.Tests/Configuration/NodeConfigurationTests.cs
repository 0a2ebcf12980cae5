using Dynamite.Cli;
using Dynamite.Server.Configuration;
using Xunit;

namespace Dynamite.Server.Tests.Configuration;

public sealed class NodeConfigurationTests
{
    private const string ClusterYaml = """
        node-id: n2
        peer-listen: 127.0.0.1:9101
        seeds:
          - 127.0.0.1:9111
          - 127.0.0.1:9121
        dc: eu-west
        rack: r7
        cluster-name: prod
        cluster-secret: s3cret
        n: 5
        r: 3
        w: 4
        hinted-handoff: off
        read-repair: false
        request-timeout-ms: 750
        """;

    [Fact]
    public void Defaults_ClusterSettings_AreTheDocumentedOnes()
    {
        var configuration = new NodeConfiguration();

        Assert.Equal("127.0.0.1:8101", configuration.PeerListen);
        Assert.Empty(configuration.Seeds);
        Assert.Equal("dc1", configuration.Datacenter);
        Assert.Equal("rack1", configuration.Rack);
        Assert.Equal("dynamite", configuration.ClusterName);
        Assert.Null(configuration.ClusterSecret);
        Assert.Equal(3, configuration.ReplicationFactor);
        Assert.Equal(2, configuration.ReadQuorum);
        Assert.Equal(2, configuration.WriteQuorum);
        Assert.True(configuration.HintedHandoff);
        Assert.True(configuration.ReadRepair);
        Assert.Equal(2000, configuration.RequestTimeoutMs);
        configuration.Validate();
    }

    [Fact]
    public void Load_ClusterKeys_AppliedOverDefaults()
    {
        using var yaml = new TempYaml(ClusterYaml);

        NodeConfiguration configuration = LoadFile(yaml.Path);

        Assert.Equal("n2", configuration.NodeId);
        Assert.Equal("127.0.0.1:9101", configuration.PeerListen);
        Assert.Equal(["127.0.0.1:9111", "127.0.0.1:9121"], configuration.Seeds);
        Assert.Equal("eu-west", configuration.Datacenter);
        Assert.Equal("r7", configuration.Rack);
        Assert.Equal("prod", configuration.ClusterName);
        Assert.Equal("s3cret", configuration.ClusterSecret);
        Assert.Equal(5, configuration.ReplicationFactor);
        Assert.Equal(3, configuration.ReadQuorum);
        Assert.Equal(4, configuration.WriteQuorum);
        Assert.False(configuration.HintedHandoff);
        Assert.False(configuration.ReadRepair);
        Assert.Equal(750, configuration.RequestTimeoutMs);
        configuration.Validate();
    }

    [Fact]
    public void Load_SeedsAsCommaString_Split()
    {
        using var yaml = new TempYaml("seeds: \"127.0.0.1:9111, 127.0.0.1:9121,\"\n");

        NodeConfiguration configuration = LoadFile(yaml.Path);

        Assert.Equal(["127.0.0.1:9111", "127.0.0.1:9121"], configuration.Seeds);
    }

    [Theory]
    [InlineData("on", true)]
    [InlineData("off", false)]
    [InlineData("true", true)]
    [InlineData("false", false)]
    public void Load_HintedHandoffSwitch_Parsed(string text, bool expected)
    {
        using var yaml = new TempYaml($"hinted-handoff: {text}\nread-repair: {text}\n");

        NodeConfiguration configuration = LoadFile(yaml.Path);

        Assert.Equal(expected, configuration.HintedHandoff);
        Assert.Equal(expected, configuration.ReadRepair);
    }

    [Fact]
    public void Load_BadSwitch_ClearError()
    {
        using var yaml = new TempYaml("read-repair: maybe\n");

        var error = Assert.Throws<ConfigurationException>(() => LoadFile(yaml.Path));
        Assert.Equal("read-repair must be on or off, not 'maybe'.", error.Message);
    }

    [Fact]
    public void Load_UnknownKey_ClearError()
    {
        using var yaml = new TempYaml("replication-factor: 3\n");

        var error = Assert.Throws<ConfigurationException>(() => LoadFile(yaml.Path));
        Assert.Contains("replication-factor", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_FlagsAndYaml_FlagsWin()
    {
        using var yaml = new TempYaml(ClusterYaml);
        var start = new StartCommand();

        NodeConfiguration configuration = Resolve(start, start.Command.Parse([
            "--config", yaml.Path,
            "--peer-listen", "127.0.0.1:9201",
            "--seeds", "127.0.0.1:9301,127.0.0.1:9302",
            "--dc", "us-east", "--rack", "r1", "--cluster-name", "staging", "--cluster-secret", "other",
            "--n", "3", "--r", "1", "--w", "3",
            "--hinted-handoff", "on", "--read-repair", "on", "--request-timeout-ms", "100",
        ]));

        Assert.Equal("n2", configuration.NodeId);
        Assert.Equal(yaml.Path, configuration.ConfigFile);
        Assert.Equal("127.0.0.1:9201", configuration.PeerListen);
        Assert.Equal(["127.0.0.1:9301", "127.0.0.1:9302"], configuration.Seeds);
        Assert.Equal("us-east", configuration.Datacenter);
        Assert.Equal("r1", configuration.Rack);
        Assert.Equal("staging", configuration.ClusterName);
        Assert.Equal("other", configuration.ClusterSecret);
        Assert.Equal(3, configuration.ReplicationFactor);
        Assert.Equal(1, configuration.ReadQuorum);
        Assert.Equal(3, configuration.WriteQuorum);
        Assert.True(configuration.HintedHandoff);
        Assert.True(configuration.ReadRepair);
        Assert.Equal(100, configuration.RequestTimeoutMs);
    }

    [Fact]
    public void Resolve_NoFlags_YamlKept()
    {
        using var yaml = new TempYaml(ClusterYaml);
        var start = new StartCommand();

        NodeConfiguration configuration = Resolve(start, start.Command.Parse(["--config", yaml.Path]));

        Assert.Equal(5, configuration.ReplicationFactor);
        Assert.False(configuration.HintedHandoff);
        Assert.Equal(["127.0.0.1:9111", "127.0.0.1:9121"], configuration.Seeds);
    }

    [Fact]
    public void Resolve_InvalidCombination_Throws()
    {
        var start = new StartCommand();

        var error = Assert.Throws<ConfigurationException>(() => Resolve(start, start.Command.Parse(["--n", "2", "--r", "3"])));
        Assert.Equal("--r (read quorum) must be between 1 and n (2), not 3.", error.Message);
    }

    [Fact]
    public void TombstoneGrace_DefaultYamlAndFlag_FlagWinsOverYamlOverDefault()
    {
        using var yaml = new TempYaml("tombstone-grace: 3600\n");
        var start = new StartCommand();

        NodeConfiguration fromYaml = Resolve(start, start.Command.Parse(["--config", yaml.Path]));
        NodeConfiguration fromFlag = Resolve(start, start.Command.Parse(["--config", yaml.Path, "--tombstone-grace", "0"]));

        Assert.Equal(86400, new NodeConfiguration().TombstoneGraceSeconds);
        Assert.Equal(3600, fromYaml.TombstoneGraceSeconds);
        Assert.Equal(0, fromFlag.TombstoneGraceSeconds);
    }

    [Fact]
    public void Validate_TlsSettings_NameWhatIsMissingOrWrong()
    {
        var tls = new NodeConfiguration { TlsPort = 6380, TlsCertFile = "node.pem", TlsKeyFile = "node.key", TlsCaCertFile = "ca.pem" };
        tls.Validate();
        (tls with { Listen = "127.0.0.1:0" }).Validate();
        (tls with { TlsCaCertFile = null, TlsAuthClients = "no" }).Validate();

        Assert.Equal("--tls-port needs --tls-cert-file and --tls-key-file.", Assert.Throws<ConfigurationException>((tls with { TlsKeyFile = null }).Validate).Message);
        Assert.StartsWith("--tls-auth-clients yes needs --tls-ca-cert-file", Assert.Throws<ConfigurationException>((tls with { TlsCaCertFile = null }).Validate).Message, StringComparison.Ordinal);
        Assert.StartsWith("--listen port 0 turns the plain port off", Assert.Throws<ConfigurationException>(new NodeConfiguration { Listen = "127.0.0.1:0" }.Validate).Message, StringComparison.Ordinal);
        Assert.StartsWith("--tls-port (8102) must be a free port", Assert.Throws<ConfigurationException>((tls with { TlsPort = 8102 }).Validate).Message, StringComparison.Ordinal);
        Assert.Equal("--tls-protocols: 'SSLv3' is not TLSv1.2 or TLSv1.3.", Assert.Throws<ConfigurationException>((tls with { TlsProtocols = "SSLv3" }).Validate).Message);
        Assert.StartsWith("--tls-ciphersuites: 'RC4' is not", Assert.Throws<ConfigurationException>((tls with { TlsCipherSuites = "RC4" }).Validate).Message, StringComparison.Ordinal);
        (tls with { TlsCipherSuites = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256", TlsProtocols = "TLSv1.3" }).Validate();
    }

    [Fact]
    public void Validate_NegativeTombstoneGrace_Throws()
    {
        var error = Assert.Throws<ConfigurationException>(() => new NodeConfiguration { TombstoneGraceSeconds = -1 }.Validate());
        Assert.Equal("--tombstone-grace must be zero or a positive number of seconds, not -1.", error.Message);
    }

    [Fact]
    public void Validate_AnEvictionPolicyOnAClusterNode_Throws_NoEvictionIsAccepted()
    {
        var error = Assert.Throws<ConfigurationException>(() => new NodeConfiguration { Seeds = ["127.0.0.1:8101"], MaxMemoryPolicy = "allkeys-lru" }.Validate());
        Assert.StartsWith("--maxmemory-policy allkeys-lru is for a standalone node", error.Message, StringComparison.Ordinal);
        new NodeConfiguration { Seeds = ["127.0.0.1:8101"], MaxMemory = 1 << 30 }.Validate();
        new NodeConfiguration { MaxMemoryPolicy = "allkeys-lru" }.Validate();
    }

    [Fact]
    public void Parse_HintedHandoffNotASwitch_ParseError()
    {
        Assert.NotEmpty(new StartCommand().Command.Parse(["--hinted-handoff", "sometimes"]).Errors);
    }

    [Theory]
    [InlineData(0, 1, 1, "--n (replication factor) must be between 1 and 16, not 0.")]
    [InlineData(17, 1, 1, "--n (replication factor) must be between 1 and 16, not 17.")]
    [InlineData(3, 0, 1, "--r (read quorum) must be between 1 and n (3), not 0.")]
    [InlineData(3, 4, 1, "--r (read quorum) must be between 1 and n (3), not 4.")]
    [InlineData(3, 1, 0, "--w (write quorum) must be between 1 and n (3), not 0.")]
    [InlineData(3, 1, 4, "--w (write quorum) must be between 1 and n (3), not 4.")]
    public void Validate_QuorumOutOfRange_Throws(int n, int r, int w, string message)
    {
        var configuration = new NodeConfiguration { ReplicationFactor = n, ReadQuorum = r, WriteQuorum = w };

        Assert.Equal(message, Assert.Throws<ConfigurationException>(configuration.Validate).Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(15)]
    public void Validate_PartitionBitsBeyondTheHashSlots_Throws(int bits)
    {
        var configuration = new NodeConfiguration { PartitionBits = bits };

        Assert.Equal(
            $"--partition-bits must be between 1 and 14 (a partition is a range of the 16,384 hash slots), not {bits}.",
            Assert.Throws<ConfigurationException>(configuration.Validate).Message);
        new NodeConfiguration { PartitionBits = 14 }.Validate();
    }

    [Fact]
    public void Validate_LargestQuorums_Accepted()
    {
        new NodeConfiguration { ReplicationFactor = 16, ReadQuorum = 16, WriteQuorum = 16 }.Validate();
        new NodeConfiguration { ReplicationFactor = 1, ReadQuorum = 1, WriteQuorum = 1 }.Validate();
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:")]
    [InlineData("127.0.0.1:70000")]
    [InlineData("db.example:8101")]
    public void Validate_BadSeed_Throws(string seed)
    {
        var configuration = new NodeConfiguration { Seeds = ["127.0.0.1:9111", seed] };

        var error = Assert.Throws<ConfigurationException>(configuration.Validate);
        Assert.StartsWith("--seeds", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BadPeerListen_Throws()
    {
        var error = Assert.Throws<ConfigurationException>(new NodeConfiguration { PeerListen = "8101" }.Validate);
        Assert.Equal("--peer-listen must be HOST:PORT, not '8101'.", error.Message);
    }

    [Theory]
    [InlineData("127.0.0.1:8101", "127.0.0.1:22222", "--listen")]
    [InlineData("0.0.0.0:8101", "127.0.0.1:22222", "--listen")]
    [InlineData("127.0.0.1:8102", "127.0.0.1:8101", "--http")]
    public void Validate_PeerListenClashes_Throws(string listen, string http, string other)
    {
        var configuration = new NodeConfiguration { PeerListen = "127.0.0.1:8101", Listen = listen, Http = http };

        var error = Assert.Throws<ConfigurationException>(configuration.Validate);
        Assert.StartsWith($"--peer-listen (127.0.0.1:8101) and {other}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_SamePortOtherAddress_Accepted()
    {
        new NodeConfiguration { PeerListen = "127.0.0.2:8102", Listen = "127.0.0.1:8102" }.Validate();
    }

    [Theory]
    [InlineData("", "rack1", "dynamite", "--dc")]
    [InlineData("dc 1", "rack1", "dynamite", "--dc")]
    [InlineData("dc1", "", "dynamite", "--rack")]
    [InlineData("dc1", "rack\t1", "dynamite", "--rack")]
    [InlineData("dc1", "rack1", "", "--cluster-name")]
    [InlineData("dc1", "rack1", "my cluster", "--cluster-name")]
    public void Validate_BadNames_Throws(string dc, string rack, string clusterName, string setting)
    {
        var configuration = new NodeConfiguration { Datacenter = dc, Rack = rack, ClusterName = clusterName };

        var error = Assert.Throws<ConfigurationException>(configuration.Validate);
        Assert.StartsWith($"{setting} must be a non-empty name without whitespace", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NonPositiveRequestTimeout_Throws()
    {
        var error = Assert.Throws<ConfigurationException>(new NodeConfiguration { RequestTimeoutMs = 0 }.Validate);
        Assert.StartsWith("--request-timeout-ms", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SplitList_Blanks_Ignored()
    {
        Assert.Equal(["a:1", "b:2"], SettingParser.SplitList(" a:1 ,, b:2 "));
        Assert.Empty(SettingParser.SplitList(""));
    }

    [Theory]
    [InlineData("on", true)]
    [InlineData("YES", true)]
    [InlineData("True", true)]
    [InlineData("off", false)]
    [InlineData("no", false)]
    [InlineData(" false ", false)]
    public void Switch_EveryWordTheFileTakes_TheFlagOffersToo(string word, bool expected)
    {
        Assert.Equal(expected, SettingParser.Parse(typeof(bool), word, "--hinted-handoff"));
        Assert.Contains(word.Trim(), SettingParser.ChoicesOf(typeof(bool)), StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The file alone: no flags, and an empty environment so the machine's own variables cannot leak in.</summary>
    internal static NodeConfiguration LoadFile(string path) => NodeConfigurationLoader.Load(path, new Dictionary<string, string>(), _ => null);

    internal static NodeConfiguration Resolve(StartCommand start, System.CommandLine.ParseResult parseResult) => start.Resolve(parseResult, _ => null);
}
