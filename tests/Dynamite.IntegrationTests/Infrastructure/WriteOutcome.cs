namespace Dynamite.IntegrationTests.Infrastructure;

/// <summary>
/// One SET a load client sent: to which node, when, how long it took and what came back. Only "+OK" is an
/// acknowledged write; an error reply or a timeout is not, though the write may still have been applied.
/// </summary>
internal sealed record WriteOutcome(string Key, string Value, int Node, DateTime StartedUtc, double LatencyMs, string Reply)
{
    public bool Acknowledged => Reply == "+OK";
}
