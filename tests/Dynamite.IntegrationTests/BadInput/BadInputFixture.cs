using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.BadInput;

/// <summary>
/// One node with small limits (so oversized input is cheap to send) and a sentinel key the bad-input cases
/// check is never lost or corrupted.
/// </summary>
public sealed class BadInputFixture : IAsyncLifetime
{
    public const long MaxValueSize = 64 * 1024;
    public const long ProtoMaxBulkLen = 256 * 1024;
    public const long ClientQueryBufferLimit = 512 * 1024;
    public const string SentinelValue = "still-here";

    private string? _configFile;

    internal DynamiteNode Node { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _configFile = Path.Combine(Path.GetTempPath(), $"dynamite-badinput-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(_configFile, $"""
            max-value-size: {MaxValueSize}
            proto-max-bulk-len: {ProtoMaxBulkLen}
            client-query-buffer-limit: {ClientQueryBufferLimit}
            """);
        Node = await DynamiteNode.StartAsync("sqlite", ["--config", _configFile]);
        using RawRespClient client = Node.Connect();
        Assert.Equal("+OK", client.Call("SET", BadInputTests.Sentinel, SentinelValue).ToString());
    }

    public async Task DisposeAsync()
    {
        await Node.DisposeAsync();
        if (_configFile is not null)
        {
            File.Delete(_configFile);
        }
    }
}
