namespace Dynamite.Core.KeyValue;

/// <summary>
/// A read or write could not reach its quorum (too few replicas answered in time, or their replies
/// disagreed where agreement was required). Nothing is promised about a failed write: it may have
/// reached some replicas, as in Dynamo. The message is shown to the client.
/// </summary>
public sealed class StoreUnavailableException : Exception
{
    public StoreUnavailableException(string message)
        : base(message)
    {
    }

    public StoreUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public StoreUnavailableException()
    {
    }

    /// <summary>
    /// True when part of the failed change is known to be stored (a transaction committed on its coordinating replica that
    /// did not reach W): a front end must not answer that nothing was applied.
    /// </summary>
    public bool MayBeApplied { get; init; }
}
