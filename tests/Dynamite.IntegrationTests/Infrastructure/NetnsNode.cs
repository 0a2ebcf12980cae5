namespace Dynamite.IntegrationTests.Infrastructure;

/// <summary>
/// A real `dynamite start` process inside a network namespace of its own. It is started through
/// `ip netns exec`, which enters the namespace and then execs dotnet: the PID this object holds is the node's
/// own, so SIGSTOP, SIGCONT and SIGKILL reach the node and nothing else.
/// </summary>
internal sealed class NetnsNode : ManagedProcess
{
    private NetnsNode(string networkNamespace, string address)
    {
        Namespace = networkNamespace;
        Address = address;
    }

    public string Namespace { get; }

    /// <summary>The node's address on the test bridge; it listens on the fixed ports of <see cref="NetnsCluster"/>.</summary>
    public string Address { get; }

    public static NetnsNode Start(string networkNamespace, string address, IEnumerable<string> dynamiteArguments)
    {
        var node = new NetnsNode(networkNamespace, address);
        node.StartProcess("ip", ["netns", "exec", networkNamespace, "dotnet", RepositoryPaths.DynamiteDll, .. dynamiteArguments], RepositoryPaths.Root);
        return node;
    }

    public RawRespClient Connect(int timeoutMs = 15000) => RawRespClient.Connect(Address, NetnsCluster.RespPort, timeoutMs);
}
