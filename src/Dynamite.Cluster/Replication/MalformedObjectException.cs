namespace Dynamite.Cluster.Replication;

/// <summary>
/// A request that decoded as a message but whose content is unusable (an object that does not decode, an
/// invalid node id, a partition that does not match the key). Answered as a malformed payload, not as a
/// failure of this node.
/// </summary>
public sealed class MalformedObjectException : Exception
{
    public MalformedObjectException()
    {
    }

    public MalformedObjectException(string message)
        : base(message)
    {
    }

    public MalformedObjectException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
